package org.mae4j.mae;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one forward pass gives. The arrays are views of the model's reused buffers: valid until the next
 * forward; {@code dup()} what you want to keep.
 *
 * @param loss    the masked-patch loss (norm-pix or plain, as configured)
 * @param pred    [N, L, P] predicted patches in image order, vector order (p_row, p_col, c)
 * @param mask    [N, L] 1 = removed, 0 = visible
 * @param latent  [N, 1+K, D] encoder output after its final norm (cls first)
 * @param masking the mask sample used (ids_shuffle / ids_restore)
 */
public record MaeOutput(double loss, INDArray pred, INDArray mask, INDArray latent, MaskSample masking) {}
