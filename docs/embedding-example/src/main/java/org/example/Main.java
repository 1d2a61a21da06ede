package org.example;

import org.mae4j.embed.Embedder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Embeds every image of a folder and prints each one's nearest neighbour by cosine similarity. */
public class Main {
    public static void main(String[] args) throws Exception {
        Embedder embedder = Embedder.load(Path.of(args[0])).withPooling(Embedder.Pooling.valueOf(args[2]));
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(args[1]))) {
            files = s.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)")).sorted().toList();
        }
        float[][] v = embedder.embedFiles(files);                    // [N][D], one row per file
        float[] mean = new float[embedder.dimension()];               // centre: what all images share says nothing
        for (float[] x : v) for (int k = 0; k < x.length; k++) mean[k] += x[k] / v.length;
        for (float[] x : v) {                                         // then unit length: a dot product is the cosine
            double norm = 0;
            for (int k = 0; k < x.length; k++) { x[k] -= mean[k]; norm += x[k] * x[k]; }
            for (int k = 0; k < x.length; k++) x[k] /= (float) Math.sqrt(norm);
        }
        for (int i = 0; i < v.length; i++) {
            int best = -1;
            double bestSim = -2;
            for (int j = 0; j < v.length; j++) {
                double s = 0;
                for (int k = 0; k < v[i].length; k++) s += v[i][k] * v[j][k];
                if (j != i && s > bestSim) { bestSim = s; best = j; }
            }
            System.out.printf("%-18s -> %-18s cosine %.3f%n", files.get(i).getFileName(), files.get(best).getFileName(), bestSim);
        }
    }
}
