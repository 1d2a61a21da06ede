package org.mae4j;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import java.util.Arrays;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Which module may depend on which (docs/architecture.md, "Modules beside mae-core"), read from the compiled
 * classes of the modules on this module's classpath (mae-core, mae-distributed, mae-examples; mae-spark is not
 * on it, so only the other modules' rules about it are checked). mae-core's own package order is
 * {@code PackageLayeringTest} in mae-core. Run it alone with
 * {@code mvn -o -B -ntp test -pl src/test -am -Dtest=ModuleLayeringTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
// Only the modules' own classes are imported (ND4J's natives, Spark's and XGBoost's jars would take most of the
// time): folders (target/classes, a build that stops at test) or jars (target/*.jar, a full `verify` of the reactor,
// as CI runs), both under the module's folder. Were nothing imported, every rule would fail with "failed to check any
// classes", not pass.
@AnalyzeClasses(packages = "org.mae4j", importOptions = {ImportOption.DoNotIncludeTests.class, ModuleLayeringTest.OurModules.class})
class ModuleLayeringTest {

    /** The classes of mae-core, mae-distributed and mae-examples, from their folders or their jars. */
    static final class OurModules implements ImportOption {
        @Override
        public boolean includes(com.tngtech.archunit.core.importer.Location location) {
            return location.contains("/mae-core/") || location.contains("/mae-distributed/") || location.contains("/mae-examples/");
        }
    }

    /** mae-core's packages: the table of docs/architecture.md. */
    private static final String[] CORE = {"org.mae4j.config..", "org.mae4j.engine..", "org.mae4j.io..",
            "org.mae4j.data..", "org.mae4j.nn..", "org.mae4j.train..", "org.mae4j.mae..", "org.mae4j.finetune..",
            "org.mae4j.probe..", "org.mae4j.embed.."};

    /** The libraries of the modules above mae-core: the command line's, the all-reduce's, Spark. */
    private static final String[] LIBRARIES_ABOVE_CORE = {"picocli..", "org.jfree..", "ml.dmlc..",
            "org.apache.spark..", "scala.."};

    /** A mae4j class of another module than the given packages (whatever that module is called). */
    private static DescribedPredicate<JavaClass> mae4jOutside(String description, String... packages) {
        return resideInAPackage("org.mae4j..").and(not(resideInAnyPackage(packages)))
                .as("are mae4j classes outside " + description);
    }

    private static String[] coreAnd(String... more) {
        String[] all = Arrays.copyOf(CORE, CORE.length + more.length);
        System.arraycopy(more, 0, all, CORE.length, more.length);
        return all;
    }

    @ArchTest
    static final ArchRule coreDependsOnNoOtherModule = noClasses().that().resideInAnyPackage(CORE)
            .should().dependOnClassesThat(mae4jOutside("mae-core", CORE))
            .orShould().dependOnClassesThat().resideInAnyPackage(LIBRARIES_ABOVE_CORE)
            .because("mae-core is the library a user adds alone: it knows nothing of the modules built on it"
                    + " (docs/embedding.md)");

    @ArchTest
    static final ArchRule distributedDependsOnCoreOnly = noClasses().that().resideInAPackage("org.mae4j.distributed..")
            .should().dependOnClassesThat(mae4jOutside("mae-core and mae-distributed",
                    coreAnd("org.mae4j.distributed..")))
            .orShould().dependOnClassesThat().resideInAnyPackage("picocli..", "org.jfree..", "org.apache.spark..")
            .because("mae-distributed is the train.Collective of mae-core on XGBoost's all-reduce, usable without"
                    + " the command line or Spark");

    @ArchTest
    static final ArchRule examplesDoNotDependOnSpark = noClasses().that().resideInAPackage("org.mae4j.examples..")
            .should().dependOnClassesThat().resideInAnyPackage("org.mae4j.spark..", "org.apache.spark..")
            .because("mae-spark builds on the other modules; the reverse would be a module cycle");

    @ArchTest
    static final ArchRule picturesKnowNothingOfTheCommands = noClasses().that()
            .resideInAPackage("org.mae4j.examples.viz..")
            .should().dependOnClassesThat().resideInAnyPackage("org.mae4j.examples", "org.mae4j.distributed..")
            .because("viz draws what it is given (pixels, numbers) for any caller; the commands call it, not the"
                    + " reverse");
}
