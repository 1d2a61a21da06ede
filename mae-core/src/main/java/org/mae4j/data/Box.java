package org.mae4j.data;

/**
 * A rectangle of pixels in an image, rows [top, top + height) and columns [left, left + width); the region that
 * CutMix pastes or random erasing overwrites.
 *
 * @param top    first row, at least 0
 * @param left   first column, at least 0
 * @param height number of rows, at least 0
 * @param width  number of columns, at least 0
 */
public record Box(int top, int left, int height, int width) {

    public Box {
        if (top < 0 || left < 0 || height < 0 || width < 0) {
            throw new IllegalArgumentException("box needs non-negative top, left, height and width, got top " + top
                    + ", left " + left + ", height " + height + ", width " + width);
        }
    }

    /** Number of pixels in the box (per channel). */
    public int area() {
        return height * width;
    }

    /** Whether pixel (row y, column x) lies inside the box. */
    public boolean contains(int y, int x) {
        return y >= top && y < top + height && x >= left && x < left + width;
    }
}
