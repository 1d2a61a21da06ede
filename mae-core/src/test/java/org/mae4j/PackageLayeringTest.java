package org.mae4j;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package order of docs/architecture.md ("Packages of mae-core"), read from mae-core's compiled classes
 * (every reference counts: imports, fully qualified names, static calls, field and signature types), so a wrong
 * import fails the build. Run it alone with
 * {@code mvn -o -B -ntp test -pl mae-core -am -Dtest=PackageLayeringTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * A new package must first be placed in {@link #USES} (and the doc's table): a class outside the ten fails too.
 */
// mae-core's own classes are always a folder (target/classes) here; skipping the jars on the classpath (ND4J's
// natives among them) takes the import from ~30 s to ~7 s. An empty import would fail, not pass: every layer
// must hold a class (ArchUnit's layers are not optional by default).
@AnalyzeClasses(packages = "org.mae4j",
        importOptions = {ImportOption.DoNotIncludeTests.class, ImportOption.DoNotIncludeJars.class})
class PackageLayeringTest {

    private static final String WHY = "docs/architecture.md, \"Packages of mae-core\": dependencies point down"
            + " the table and never back";

    /**
     * The doc's table, bottom first, each package with the packages it uses directly (the doc's arrows). A
     * package may use those and, transitively, whatever they may use; nothing above it and no sibling (finetune,
     * probe and embed know nothing of each other).
     */
    static final Map<String, List<String>> USES = new LinkedHashMap<>();
    static {
        USES.put("config", List.of());
        USES.put("engine", List.of());
        USES.put("io", List.of("config", "engine"));
        USES.put("data", List.of("config"));
        USES.put("nn", List.of("config", "engine"));
        USES.put("train", List.of("config", "engine", "io", "data"));
        USES.put("mae", List.of("nn", "io", "train"));
        USES.put("finetune", List.of("mae", "train", "data"));
        USES.put("probe", List.of("mae", "train", "data"));
        USES.put("embed", List.of("mae", "train", "data"));
    }

    /** Each package's allowed set: the transitive closure of {@link #USES}, built bottom up. */
    static Map<String, Set<String>> allowed() {
        Map<String, Set<String>> allowed = new LinkedHashMap<>();
        USES.forEach((pkg, uses) -> {
            Set<String> may = new LinkedHashSet<>();
            for (String used : uses) {
                // a package may only name packages listed before it: that is what "down the table" means
                if (!allowed.containsKey(used)) {
                    throw new IllegalStateException("USES: " + pkg + " uses " + used + ", which is not below it");
                }
                may.add(used);
                may.addAll(allowed.get(used));
            }
            allowed.put(pkg, may);
        });
        return allowed;
    }

    static LayeredArchitecture layers() {
        // only dependencies between the ten packages count: ND4J, Jackson and the JDK are everyone's
        LayeredArchitecture arch = layeredArchitecture().consideringOnlyDependenciesInLayers()
                .ensureAllClassesAreContainedInArchitecture();
        for (String pkg : USES.keySet()) {
            arch = arch.layer(pkg).definedBy("org.mae4j." + pkg + "..");
        }
        for (Map.Entry<String, Set<String>> e : allowed().entrySet()) {
            arch = e.getValue().isEmpty()
                    ? arch.whereLayer(e.getKey()).mayNotAccessAnyLayer()
                    : arch.whereLayer(e.getKey()).mayOnlyAccessLayers(e.getValue().toArray(String[]::new));
        }
        return arch;
    }

    @ArchTest
    static final ArchRule packagesDependOnlyDownTheTable = layers().because(WHY);

    @ArchTest
    static final ArchRule noPackageCycle = slices().matching("org.mae4j.(*)..").should().beFreeOfCycles()
            .because(WHY);
}
