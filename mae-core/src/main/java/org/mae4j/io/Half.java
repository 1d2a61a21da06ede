package org.mae4j.io;

/** IEEE 754 binary16 and bfloat16 to float conversions (Java 17 has neither). */
final class Half {
    private Half() {}

    static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));     // inf / NaN
        if (exp == 0) {                                                                    // zero / subnormal
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    static float bf16ToFloat(short b) { return Float.intBitsToFloat((b & 0xffff) << 16); }
}
