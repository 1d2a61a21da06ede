package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A HuggingFace config.json, mutated: read or an IOException with a one-line message naming the file. */
class HfConfigFuzzTest {

    @Test
    void mutatedConfigs(@TempDir Path dir) throws IOException {
        Path valid = dir.resolve("valid.json");
        HfConfig.write(MaeConfig.micro(), valid);
        assertEquals(MaeConfig.micro().encoder().mlpHidden(), HfConfig.read(valid).encoder().mlpHidden());
        Mutations.Summary s = Mutations.fuzz(Files.readAllBytes(valid), 3, 400, Duration.ofSeconds(60),
                Mutations.viaFile(dir, "config.json", HfConfig::read), "config.json", IOException.class);
        assertTrue(s.rejected() > 0, s.toString());
    }

    @Test
    void syntaxErrorsAndOddValuesAreOneLine(@TempDir Path dir) throws IOException {
        String[] bad = {"{\"image_size\": 16,\n \"patch_size\": }", "[1, 2]", "", "{\"image_size\": 2.5}", "{\"image_size\": \"16\"}"};
        for (String b : bad) {
            Path f = dir.resolve("config.json");
            Files.writeString(f, b);
            IOException e = assertThrows(IOException.class, () -> HfConfig.read(f), b);
            assertTrue(e.getMessage().contains("config.json") && !e.getMessage().contains("\n"), e.getMessage());
        }
        IOException missing = assertThrows(IOException.class, () -> HfConfig.read(dir.resolve("absent.json")));
        assertTrue(missing.getMessage().contains("absent.json") && missing.getMessage().contains("not found"), missing.getMessage());
    }

    /** VitSpec's hidden width is (int) (width * ratio): the ratio read must give the file's width back, always. */
    @Test
    void mlpRatioGivesTheIntermediateSizeBack() {
        int checked = 0;
        for (int width = 1; width <= 1024; width++) {
            for (int hidden = 1; hidden <= 4 * width + 4; hidden += (width > 256 ? 7 : 1)) {
                double r = HfConfig.mlpRatio(hidden, width);
                assertEquals(hidden, (int) (width * r), "width " + width + ", intermediate_size " + hidden);
                checked++;
            }
        }
        assertTrue(checked > 100_000);
    }

    /** 44 wide with a 60-wide MLP: 60 / 44 * 44 is just below 60 in doubles. */
    @Test
    void awkwardIntermediateSizeRoundTrips(@TempDir Path dir) throws IOException {
        assertTrue((int) (44 * (60.0 / 44)) == 59, "the premise: the plain quotient loses one");
        org.mae4j.config.VitSpec enc = new org.mae4j.config.VitSpec(44, 1, 4, HfConfig.mlpRatio(60, 44));
        assertEquals(60, enc.mlpHidden());
        MaeConfig cfg = new MaeConfig(16, 4, 3, enc, new org.mae4j.config.VitSpec(52, 1, 4, HfConfig.mlpRatio(63, 52)), 0.75, false, 1e-6);
        Path f = dir.resolve("config.json");
        HfConfig.write(cfg, f);
        MaeConfig back = HfConfig.read(f);
        assertEquals(60, back.encoder().mlpHidden());
        assertEquals(63, back.decoder().mlpHidden());
    }

    @Test
    void absurdSizesAreRefusedByField(@TempDir Path dir) throws IOException {
        Path valid = dir.resolve("valid.json");
        HfConfig.write(MaeConfig.micro(), valid);
        String text = Files.readString(valid);
        String[][] edits = {{"\"hidden_size\" : 32", "\"hidden_size\" : 2147483647"}, {"\"image_size\" : 16", "\"image_size\" : 65536"},
                {"\"patch_size\" : 4", "\"patch_size\" : 0"}, {"\"num_attention_heads\" : 2", "\"num_attention_heads\" : 33"}};
        for (String[] ed : edits) {
            assertTrue(text.contains(ed[0]), "premise: " + ed[0] + " in " + text);
            Path f = dir.resolve("config.json");
            Files.writeString(f, text.replace(ed[0], ed[1]));
            IOException e = assertThrows(IOException.class, () -> HfConfig.read(f), ed[1]);
            String field = ed[0].substring(1, ed[0].indexOf('"', 1));
            assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains(field), e.getMessage());
        }
    }
}
