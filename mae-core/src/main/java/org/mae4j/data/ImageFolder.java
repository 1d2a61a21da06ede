package org.mae4j.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A directory of PNG and JPEG images ({@code .png}, {@code .jpg}, {@code .jpeg}, any case), in one of two layouts:
 * <ul>
 *   <li><b>labeled</b>, like torchvision's ImageFolder: {@code root/<class>/.../<image>}. Every non-hidden
 *   subdirectory of root is a class; classes are sorted by name and numbered from 0; each class's images are
 *   found recursively, in torchvision's order (a directory's own files by name, then its subdirectories').
 *   A class directory without images is an error (as in torchvision), and so are images lying directly in
 *   root next to class directories (torchvision silently skips them; here the ambiguity is reported rather
 *   than guessed).</li>
 *   <li><b>flat</b>, unlabeled: the images directly in root, when no subdirectory holds any image.</li>
 * </ul>
 * Hidden entries (names starting with '.') and other files are ignored. Paths are sorted, so index i is the
 * same image on every machine and every run.
 *
 * <p>Images are decoded when read ({@link #image}), not when the folder is opened, so opening a large folder
 * is cheap; a file that cannot be decoded fails then, with its path and the problem in the message. To find
 * bad files up front instead, {@link #scan} checks every image once and, by a {@link BadImagePolicy}, leaves
 * the unreadable ones out (listing them in {@link #skipped()}) or refuses the folder naming the first one.
 *
 * <p>Each image becomes {@code channels} planes: grey to RGB replicates the grey value, RGB to grey is the luminance
 * 0.299 R + 0.587 G + 0.114 B (ITU-R 601, Pillow's {@code convert("L")}); alpha is dropped, not composited.
 * Grey images are read from their raster, not through {@code getRGB}, because Java's grey colour space is
 * linear and {@code getRGB} would apply a gamma curve to values that PNG and JPEG already store gamma-encoded.
 *
 * <p>Then the image is brought to {@code imageSize x imageSize} as torchvision's
 * {@code Resize(imageSize) + CenterCrop(imageSize)} would: the centred square of side min(W, H) is resampled
 * (bilinear, antialiased when shrinking, see {@link Resample}) to imageSize. Computing it as one resample of
 * that square skips torchvision's rounding of the long side to whole pixels, so the two can differ by a
 * fraction of a pixel in the long direction.
 */
public final class ImageFolder implements ImageDataset {

    private final Path root;
    private final int channels;
    private final int imageSize;
    private final List<Path> files;
    private final int[] labels;          // null when unlabeled
    private final List<String> classNames;
    private final List<BadImage> skipped;

    /** An image file left out by {@link #scan} and why, in words (no Java class names). */
    public record BadImage(Path path, String problem) {
        @Override
        public String toString() {
            return path + ": " + problem;
        }
    }

    private ImageFolder(Path root, int channels, int imageSize, List<Path> files, int[] labels,
                        List<String> classNames, List<BadImage> skipped) {
        this.root = root;
        this.channels = channels;
        this.imageSize = imageSize;
        this.files = files;
        this.labels = labels;
        this.classNames = classNames;
        this.skipped = skipped;
    }

    /**
     * Lists the images under root (see the class comment for the two layouts).
     *
     * @param channels  1 or 3
     * @param imageSize the side every image is resized and cropped to, at least 1
     * @throws IOException if root is not a readable directory, holds no images, or mixes loose images with class
     *                     directories, or if a class directory has no images
     */
    public static ImageFolder open(Path root, int channels, int imageSize) throws IOException {
        Objects.requireNonNull(root, "root");
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (imageSize < 1) throw new IllegalArgumentException("imageSize must be at least 1, got " + imageSize);
        if (!Files.isDirectory(root)) throw new IOException("image folder " + root + " is not a directory");

        List<Path> loose = new ArrayList<>();
        List<Path> subdirs = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                if (isHidden(p)) continue;
                if (Files.isDirectory(p)) subdirs.add(p);
                else if (isImage(p)) loose.add(p);
            }
        }
        List<List<Path>> perClass = new ArrayList<>();
        boolean anyClassImages = false;
        for (Path d : subdirs) {
            List<Path> imgs = imagesUnder(d);
            perClass.add(imgs);
            anyClassImages |= !imgs.isEmpty();
        }

        if (!anyClassImages) {
            if (loose.isEmpty()) {
                throw new IOException("no images (.png, .jpg, .jpeg) in " + root + " or in its subdirectories");
            }
            return new ImageFolder(root, channels, imageSize, List.copyOf(loose), null, List.of(), List.of());
        }
        if (!loose.isEmpty()) {
            throw new IOException(root + " has class subdirectories with images and also " + loose.size()
                    + " image(s) directly in it (e.g. " + loose.get(0).getFileName() + "); move those into a class "
                    + "subdirectory, or point to a folder that holds only images for an unlabeled set");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < subdirs.size(); c++) {
            if (perClass.get(c).isEmpty()) {
                throw new IOException("class directory " + subdirs.get(c) + " has no images (.png, .jpg, .jpeg); "
                        + "every subdirectory of " + root + " is taken as a class");
            }
            names.add(subdirs.get(c).getFileName().toString());
            for (Path p : perClass.get(c)) {
                files.add(p);
                labelList.add(c);
            }
        }
        int[] labels = labelList.stream().mapToInt(Integer::intValue).toArray();
        return new ImageFolder(root, channels, imageSize, List.copyOf(files), labels, List.copyOf(names), List.of());
    }

    /** Refuses a path that is not a regular file, saying what it is instead (a folder, or nothing). */
    public static void requireFile(Path f) throws IOException {
        if (Files.isRegularFile(f)) return;
        if (Files.isDirectory(f)) throw new IOException(f + " is a folder, not an image file");
        if (Files.exists(f)) throw new IOException(f + " is not a regular file (a device, pipe or socket), not an image file");
        throw new IOException("image file not found: " + f);
    }

    /**
     * Images anywhere under dir, hidden files and directories skipped. Symbolic links are
     * followed, as torchvision does, because datasets are often assembled from linked class directories.
     */
    private static List<Path> imagesUnder(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(dir) || !isImage(p) || !Files.isRegularFile(p)) continue;
                boolean hidden = false;
                for (Path part : dir.relativize(p)) hidden |= part.toString().startsWith(".");
                if (!hidden) out.add(p);
            }
        } catch (java.io.UncheckedIOException e) {
            // the walk's iterator wraps what it meets on the way; a loop of links otherwise reaches the user as a bare class name
            if (e.getCause() instanceof java.nio.file.FileSystemLoopException loop) {
                throw new IOException(dir + ": the symbolic link " + loop.getFile() + " leads back to a folder above it (a link loop)", loop);
            }
            throw e.getCause();
        }
        // torchvision's order: directories by path (sorted os.walk), then file names within each directory, so
        // a class's own files come before those of its subdirectories.
        out.sort(Comparator.comparing(Path::getParent).thenComparing(Path::getFileName));
        return out;
    }

    private static boolean isHidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /**
     * Named image files, unlabeled, in the order given (e.g. the images a user passes on the command line).
     *
     * @throws IOException if a file does not exist or is not a PNG/JPEG by its name
     */
    public static ImageFolder ofFiles(List<Path> files, int channels, int imageSize) throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no image files given");
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        if (imageSize < 1) throw new IllegalArgumentException("imageSize must be at least 1, got " + imageSize);
        for (Path f : files) {
            requireFile(f);
            if (!isImage(f)) throw new IOException(f + " is not a .png, .jpg or .jpeg file");
        }
        Path root = files.get(0).toAbsolutePath().getParent();
        return new ImageFolder(root, channels, imageSize, List.copyOf(files), null, List.of(), List.of());
    }

    /**
     * {@link #open} and then {@link #scan}: the folder with every image checked once up front.
     *
     * @throws IOException as open does, and with FAIL for the first unreadable image (path and problem)
     */
    public static ImageFolder open(Path root, int channels, int imageSize, BadImagePolicy policy) throws IOException {
        return open(root, channels, imageSize).scan(policy, false);
    }

    /**
     * Checks every image once, so that a bad file is found when the data is opened rather than mid-epoch.
     * Each file is opened and its image header read (format recognised, width and height positive and at most
     * {@link #MAX_PIXELS} pixels); with {@code fullDecode} every image is also decoded whole, which finds files
     * cut short or corrupt after their header too, at the cost of reading all the data once (seconds per
     * thousand photos). With SKIP the result holds the good images only, labels and class names unchanged
     * (a class may end up with fewer images, or none), and {@link #skipped()} lists the others; with FAIL the
     * first bad file ends the scan. A file that passes a header-only scan and fails later still fails in
     * {@link #image} with its path and problem.
     *
     * @throws IOException with FAIL: the first unreadable image, its path and the problem, in one line; with
     *                     SKIP: when no image is readable at all
     */
    public ImageFolder scan(BadImagePolicy policy, boolean fullDecode) throws IOException {
        Objects.requireNonNull(policy, "policy");
        List<Path> good = new ArrayList<>();
        List<Integer> goodLabels = new ArrayList<>();
        List<BadImage> bad = new ArrayList<>(skipped);
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            String problem = fullDecode ? decodeProblem(f) : headerProblem(f);
            if (problem == null) {
                good.add(f);
                if (labels != null) goodLabels.add(labels[i]);
            } else if (policy == BadImagePolicy.FAIL) {
                throw new IOException("unreadable image " + f + ": " + problem + " (image " + (i + 1) + " of " + files.size()
                        + " in " + root + "; skip unreadable images to go on without it)");
            } else {
                bad.add(new BadImage(f, problem));
            }
        }
        if (good.isEmpty()) {
            throw new IOException("no readable images in " + root + ": all " + bad.size() + " failed, e.g. " + bad.get(0));
        }
        int[] l = labels == null ? null : goodLabels.stream().mapToInt(Integer::intValue).toArray();
        return new ImageFolder(root, channels, imageSize, List.copyOf(good), l, classNames, List.copyOf(bad));
    }

    /** Images left out by {@link #scan} with SKIP, in path order; empty if none were (or no scan ran). */
    public List<BadImage> skipped() {
        return skipped;
    }

    /**
     * Images with more pixels than this (8192 x 8192) are refused before decoding: one would take over a
     * gigabyte as decoded pixels plus float planes, and a corrupt header can claim any size.
     */
    public static final long MAX_PIXELS = 1L << 26;

    /** Null if the file's image header reads, else what is wrong, in words. */
    static String headerProblem(Path file) {
        try {
            decode(file, true);
            return null;
        } catch (Unreadable u) {
            return u.getMessage();
        }
    }

    /** Null if the whole image decodes, else what is wrong, in words. */
    static String decodeProblem(Path file) {
        try {
            decode(file, false);
            return null;
        } catch (Unreadable u) {
            return u.getMessage();
        }
    }

    /** A file's problem as a message in words, nothing else (no path: the caller adds it). */
    private static final class Unreadable extends IOException {
        Unreadable(String problem) { super(problem); }

        Unreadable(String problem, Throwable cause) { super(problem, cause); }
    }

    /**
     * The decoded image (null when headerOnly), as ImageIO.read would decode it, but with the size read from the
     * header and checked first, so that a corrupt or hostile header cannot make it allocate gigabytes.
     */
    private static BufferedImage decode(Path file, boolean headerOnly) throws Unreadable {
        String access = accessProblem(file);
        if (access != null) throw new Unreadable(access);
        // A File source is read through a RandomAccessFile; an InputStream would be cached in a temporary file first.
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new Unreadable("cannot be opened");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new Unreadable(NOT_AN_IMAGE);
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                String size = sizeProblem(r.getWidth(0), r.getHeight(0));
                if (size != null) throw new Unreadable(size);
                if (headerOnly) {
                    String colours = headerColourProblem(r);
                    if (colours != null) throw new Unreadable(colours);
                    return null;
                }
                BufferedImage img = r.read(0);
                String colours = colourProblem(img.getColorModel());
                if (colours != null) throw new Unreadable(colours);
                return img;
            } finally {
                r.dispose();
            }
        } catch (Unreadable u) {
            throw u;
        } catch (IOException | RuntimeException e) {
            throw new Unreadable(describe(e), e);   // the cause keeps the decoder's own words for a bug report
        }
    }

    /**
     * Why the decoded pixels would be wrong, or null. javax.imageio decodes a CMYK (or YCCK) JPEG into a CMYK
     * image whose conversion to RGB ignores the inverted values Adobe writes and any embedded profile: an RGB
     * (200, 50, 50) picture comes back as (229, 122, 122). Such files are refused by name rather than trained on
     * in wrong colours; a converter fixes them in one command.
     */
    static String colourProblem(ColorModel cm) {
        if (cm instanceof IndexColorModel) return null;
        boolean cmyk = cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK || cm.getNumColorComponents() > 3;
        return cmyk ? CMYK : null;
    }

    static final String CMYK = "a CMYK (or YCCK) JPEG: not supported, its colours would decode wrong; convert it to RGB "
            + "(e.g. convert in.jpg -colorspace sRGB out.jpg)";

    /** As {@link #colourProblem} from the header alone, when the decoder tells the image type without decoding (null if not). */
    private static String headerColourProblem(ImageReader r) {
        try {
            Iterator<javax.imageio.ImageTypeSpecifier> types = r.getImageTypes(0);
            return types.hasNext() ? colourProblem(types.next().getColorModel()) : null;
        } catch (IOException | RuntimeException e) {
            return null;   // the full decode (or the first read) reports the problem in its own words
        }
    }

    /**
     * Decodes one image file as the folder does (size checked before decoding, CMYK refused), for callers that
     * read files outside a folder ({@link EvalTransform#read}).
     *
     * @throws IOException "cannot decode image FILE: problem"
     */
    static BufferedImage readFile(Path file) throws IOException {
        try {
            return decode(file, false);
        } catch (Unreadable u) {
            throw new IOException("cannot decode image " + file + ": " + u.getMessage(), u);
        }
    }

    private static final String NOT_AN_IMAGE = "not a PNG or JPEG image (no decoder recognises its contents)";

    private static String accessProblem(Path file) {
        if (!Files.exists(file)) return "file not found";
        if (!Files.isRegularFile(file)) return "not a regular file";
        if (!Files.isReadable(file)) return "permission denied";
        try {
            if (Files.size(file) == 0) return "empty file (0 bytes)";
        } catch (IOException e) {
            return "cannot read its size";
        }
        return null;
    }

    private static String sizeProblem(int w, int h) {
        if (w <= 0 || h <= 0) return "image has no pixels (" + w + " x " + h + ")";
        if ((long) w * h > MAX_PIXELS) return "image too large to decode (" + w + " x " + h + " pixels, at most " + MAX_PIXELS + ")";
        return null;
    }

    /**
     * A decoder's failure in words for a user: the messages of the exception and its causes without the Java
     * class names that Throwable.toString would put in; a decoder's own bug on corrupt data (a runtime
     * exception) as "corrupt or unsupported image data".
     */
    static String describe(Throwable e) {
        if (e instanceof java.io.EOFException) return "the file ends early (truncated)";
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null && b.length() < 300; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RuntimeException && !(t instanceof java.io.UncheckedIOException)) continue;
            String m = t.getMessage();
            if (m == null || m.isBlank()) continue;
            m = CLASS_NAME.matcher(m).replaceAll("").replace('\n', ' ').trim();
            if (!m.isEmpty() && b.indexOf(m) < 0) b.append(b.length() == 0 ? "" : ": ").append(m);
        }
        return b.length() == 0 ? "corrupt or unsupported image data" : b.toString();
    }

    /** Fully qualified class names (java.io.EOFException, javax.imageio.IIOException, ...) and the ": " after them. */
    private static final java.util.regex.Pattern CLASS_NAME =
            java.util.regex.Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    /** The directory this set was opened from. */
    public Path root() {
        return root;
    }

    /** The file of image i. */
    public Path path(int i) {
        return files.get(i);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int imageSize() {
        return imageSize;
    }

    @Override
    public void image(int i, float[] dst, int offset) {
        Objects.checkIndex(i, size());
        Objects.checkFromIndexSize(offset, imageLength(), dst.length);
        Path file = files.get(i);
        BufferedImage img;
        try {
            img = decode(file, false);
        } catch (Unreadable u) {
            // Not UncheckedIOException(IOException): its message would start with the cause's class name.
            String m = "cannot decode image " + file + ": " + u.getMessage();
            throw new UncheckedIOException(m, new IOException(m, u));
        }
        int w = img.getWidth(), h = img.getHeight();
        float[] planes = planes(img, channels);
        int planeCount = planes.length / (w * h);
        int side = Math.min(w, h);
        double x0 = (w - side) / 2.0, y0 = (h - side) / 2.0;
        Resample.resize(planes, 0, planeCount, w, h, x0, y0, x0 + side, y0 + side,
                dst, offset, imageSize, imageSize);
        int plane = imageSize * imageSize;
        for (int c = planeCount; c < channels; c++) System.arraycopy(dst, offset, dst, offset + c * plane, plane);
    }

    /**
     * The image at its own resolution as planes in [0, 1]: one plane for a grey image or when one channel is
     * wanted, three for a colour image wanted in colour. Grey becomes RGB after resizing (one plane to resample).
     */
    static float[] planes(BufferedImage img, int channels) {
        // a picture handed in (Embedder.embed(BufferedImage) of an ImageIO.read result): the same refusal as for files
        String colours = colourProblem(img.getColorModel());
        if (colours != null) throw new IllegalArgumentException("the picture is " + colours);
        int w = img.getWidth(), h = img.getHeight();
        ColorModel cm = img.getColorModel();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            Raster r = img.getRaster();
            double max = (1L << cm.getComponentSize(0)) - 1;
            float[] grey = new float[w * h];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) grey[y * w + x] = (float) (row[x] / max);
            }
            return grey;
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        int n = w * h;
        if (channels == 1) {
            float[] lum = new float[n];
            for (int p = 0; p < n; p++) {
                int v = argb[p];
                lum[p] = (float) ((0.299 * ((v >> 16) & 0xff) + 0.587 * ((v >> 8) & 0xff) + 0.114 * (v & 0xff)) / 255.0);
            }
            return lum;
        }
        float[] rgb = new float[3 * n];
        for (int p = 0; p < n; p++) {
            int v = argb[p];
            rgb[p] = ((v >> 16) & 0xff) / 255f;
            rgb[n + p] = ((v >> 8) & 0xff) / 255f;
            rgb[2 * n + p] = (v & 0xff) / 255f;
        }
        return rgb;
    }

    @Override
    public boolean hasLabels() {
        return labels != null;
    }

    @Override
    public int label(int i) {
        if (labels == null) {
            throw new IllegalStateException("image folder " + root + " is unlabeled (images directly in it, no class "
                    + "subdirectories), so image " + i + " has no label");
        }
        Objects.checkIndex(i, size());
        return labels[i];
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public String toString() {
        return "ImageFolder[" + root + ", " + size() + " images, " + (hasLabels() ? classNames.size() + " classes"
                : "unlabeled") + ", " + channels + "x" + imageSize + "x" + imageSize + "]";
    }
}
