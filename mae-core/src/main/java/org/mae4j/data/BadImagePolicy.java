package org.mae4j.data;

/**
 * What {@link ImageFolder#scan} does with a file that cannot be decoded: leave it out of the dataset and list
 * it ({@link ImageFolder#skipped()}), or refuse the whole folder with an IOException naming the file.
 */
public enum BadImagePolicy {
    /** Drop unreadable images; the dataset holds the rest, {@link ImageFolder#skipped()} says which and why. */
    SKIP,
    /** Refuse the folder at the first unreadable image, naming it and the problem. */
    FAIL
}
