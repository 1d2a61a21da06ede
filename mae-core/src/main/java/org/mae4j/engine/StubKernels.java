package org.mae4j.engine;
abstract class StubKernels implements Kernels {
  public void gemm(org.nd4j.linalg.api.ndarray.INDArray a, boolean b, org.nd4j.linalg.api.ndarray.INDArray c, boolean d, org.nd4j.linalg.api.ndarray.INDArray e, double f, double g) { throw new UnsupportedOperationException(); }
  public void addRowVector(org.nd4j.linalg.api.ndarray.INDArray y, org.nd4j.linalg.api.ndarray.INDArray b) { throw new UnsupportedOperationException(); }
  public void sumRowsInto(org.nd4j.linalg.api.ndarray.INDArray x, org.nd4j.linalg.api.ndarray.INDArray a) { throw new UnsupportedOperationException(); }
  public void copy(org.nd4j.linalg.api.ndarray.INDArray s, org.nd4j.linalg.api.ndarray.INDArray d) { throw new UnsupportedOperationException(); }
  public void copyRows(org.nd4j.linalg.api.ndarray.INDArray s, int[] a, org.nd4j.linalg.api.ndarray.INDArray d, int[] b, boolean c) { throw new UnsupportedOperationException(); }
  public void layerNorm(org.nd4j.linalg.api.ndarray.INDArray x, org.nd4j.linalg.api.ndarray.INDArray g, org.nd4j.linalg.api.ndarray.INDArray b, double e, org.nd4j.linalg.api.ndarray.INDArray o, org.nd4j.linalg.api.ndarray.INDArray m, org.nd4j.linalg.api.ndarray.INDArray r) { throw new UnsupportedOperationException(); }
  public void layerNormBackward(org.nd4j.linalg.api.ndarray.INDArray a, org.nd4j.linalg.api.ndarray.INDArray b, org.nd4j.linalg.api.ndarray.INDArray c, org.nd4j.linalg.api.ndarray.INDArray d, org.nd4j.linalg.api.ndarray.INDArray e, org.nd4j.linalg.api.ndarray.INDArray f, org.nd4j.linalg.api.ndarray.INDArray g, org.nd4j.linalg.api.ndarray.INDArray h) { throw new UnsupportedOperationException(); }
  public void gelu(org.nd4j.linalg.api.ndarray.INDArray x, org.nd4j.linalg.api.ndarray.INDArray o) { throw new UnsupportedOperationException(); }
  public void geluBackward(org.nd4j.linalg.api.ndarray.INDArray x, org.nd4j.linalg.api.ndarray.INDArray d, org.nd4j.linalg.api.ndarray.INDArray o) { throw new UnsupportedOperationException(); }
  public void attention(org.nd4j.linalg.api.ndarray.INDArray q, int n, int t, int h, org.nd4j.linalg.api.ndarray.INDArray o, org.nd4j.linalg.api.ndarray.INDArray p) { throw new UnsupportedOperationException(); }
  public void attentionBackward(org.nd4j.linalg.api.ndarray.INDArray d, org.nd4j.linalg.api.ndarray.INDArray q, org.nd4j.linalg.api.ndarray.INDArray p, int n, int t, int h, org.nd4j.linalg.api.ndarray.INDArray o) { throw new UnsupportedOperationException(); }
  public void standardizeRows(org.nd4j.linalg.api.ndarray.INDArray x, double e, org.nd4j.linalg.api.ndarray.INDArray o) { throw new UnsupportedOperationException(); }
  public double weightedRowMse(org.nd4j.linalg.api.ndarray.INDArray p, org.nd4j.linalg.api.ndarray.INDArray t, org.nd4j.linalg.api.ndarray.INDArray w, org.nd4j.linalg.api.ndarray.INDArray d) { throw new UnsupportedOperationException(); }
  public void load(double[] s, org.nd4j.linalg.api.ndarray.INDArray d) { throw new UnsupportedOperationException(); }
  public void zero(org.nd4j.linalg.api.ndarray.INDArray x) { throw new UnsupportedOperationException(); }
}
