package org.mae4j.examples;

/** Placeholder entry point; the command line arrives with the pretraining issue. */
public final class Mae {
    private Mae() {}
    public static void main(String[] args) {
        System.out.println("mae4j: commands arrive soon");
    }
}
