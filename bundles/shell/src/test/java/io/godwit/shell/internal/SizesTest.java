package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
        "128, 134217728", // bare number: MiB, as QEMU's -m
        "128M, 134217728",
        "128m, 134217728",
        "2G, 2147483648",
        "2g, 2147483648",
        "2GiB, 2147483648",
        "2GB, 2147483648",
        "512K, 524288",
        "1T, 1099511627776",
        "1.5G, 1610612736",
        "0.5, 524288",
        "4096B, 4096",
        "' 64M ', 67108864",
        "6G, 6442450944" // above 2 GiB: no int overflow
    })
    void parses(String text, long bytes) {
        assertEquals(bytes, Sizes.parse(text));
    }

    @Test
    void refusesAnUnknownSuffixWithOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("12X"));
        assertEquals("invalid size '12X': use a number with K, M, G or T (a bare number is MiB)", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"''", "M", "-1G", "1..5G", "2 GiBs", "0x10M"})
    void refusesWhatIsNotASize(String text) {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
    }

    @Test
    void refusesFractionsOfBytesAndOverflow() {
        assertEquals("invalid size '1.5B': not a whole number of bytes",
                assertThrows(IllegalArgumentException.class, () -> Sizes.parse("1.5B")).getMessage());
        assertEquals("invalid size '9000000T': too large",
                assertThrows(IllegalArgumentException.class, () -> Sizes.parse("9000000T")).getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "2147483648, 2 GiB",
        "134217728, 128 MiB",
        "1610612736, 1.5 GiB",
        "4096, 4 KiB",
        "100, 100 B",
        "0, 0 B",
        "1099511627776, 1 TiB",
        "3000000000, 2.79 GiB"
    })
    void formatsInBinaryUnits(long bytes, String text) {
        assertEquals(text, Sizes.format(bytes));
    }
}
