package io.godwit.shell.internal;

import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code xp [NAME] /FMT ADDR}: QEMU's monitor command that dumps guest physical memory. FMT is
 * {@code [COUNT][FORMAT][SIZE]}: FORMAT x (hex, default), d (signed), u (unsigned), o (octal) or c
 * (char); SIZE b, h, w (default) or g. Reads through the raw path, so it works on a running VM.
 */
@Component(
        service = XpCommand.class,
        property = {"osgi.command.scope=godwit", "osgi.command.function=xp"})
public final class XpCommand {

    static final String USAGE = "xp [NAME] /FMT ADDR, e.g. xp /4xg 0x1000";
    private static final int MAX_UNITS = 4096;

    private final VmManager vms;

    @Activate
    public XpCommand(@Reference VmManager vms) {
        this.vms = vms;
    }

    /** A parsed /FMT. */
    record Format(int count, char format, int size) {

        static Format parse(String text) {
            if (!text.startsWith("/")) {
                throw new IllegalArgumentException("expected /FMT, found '" + text + "' (usage: " + USAGE + ")");
            }
            String f = text.substring(1).toLowerCase(Locale.ROOT);
            int i = 0;
            while (i < f.length() && Character.isDigit(f.charAt(i))) {
                i++;
            }
            String digits = f.substring(0, i).replaceFirst("^0+(?=.)", "");
            // More digits than MAX_UNITS has cannot be a valid count: a usage error, not an int overflow.
            int count = i == 0 ? 1 : digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
            char format = 'x';
            int size = 4;
            for (char c : f.substring(i).toCharArray()) {
                switch (c) {
                    case 'x', 'd', 'u', 'o', 'c' -> format = c;
                    case 'b' -> size = 1;
                    case 'h' -> size = 2;
                    case 'w' -> size = 4;
                    case 'g' -> size = 8;
                    default -> throw new IllegalArgumentException("unknown format letter '" + c + "' in " + text
                            + " (formats x d u o c, sizes b h w g)");
                }
            }
            if (format == 'c' && f.substring(i).indexOf('b') < 0) {
                size = 1;
            }
            if (count < 1 || count > MAX_UNITS) {
                throw new IllegalArgumentException("count must be 1 to " + MAX_UNITS + ": " + f.substring(0, i));
            }
            return new Format(count, format, size);
        }
    }

    @Descriptor("dump guest physical memory (QEMU's xp): xp [NAME] /FMT ADDR, FMT = [COUNT][x|d|u|o|c][b|h|w|g]")
    public String xp(@Descriptor("[NAME] /FMT ADDR") String... args) {
        String[] a = args == null ? new String[0] : args;
        if (a.length < 2 || a.length > 3) {
            throw new IllegalArgumentException("usage: " + USAGE);
        }
        Vm vm = a.length == 3 ? VmArgs.resolve(vms, "xp", a[0]) : VmArgs.resolve(vms, "xp");
        Format fmt = Format.parse(a[a.length - 2]);
        long addr = parseAddress(a[a.length - 1]);
        return dump(vm, fmt, addr);
    }

    static long parseAddress(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT).replace("_", "");
        try {
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseUnsignedLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid address '" + text + "': use a number such as 0x1000");
        }
    }

    static String dump(Vm vm, Format fmt, long addr) {
        long len = (long) fmt.count() * fmt.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(len);
            try {
                vm.memory().dmaRead(addr, buf);
            } catch (GuestMemoryFault e) {
                throw new IllegalArgumentException(String.format("Cannot access memory at 0x%x (+%d bytes): %s", addr,
                        len, e.getMessage()));
            }
            int perLine = fmt.format() == 'c' ? 16 : Math.max(1, 16 / fmt.size());
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < fmt.count(); i++) {
                if (i % perLine == 0) {
                    if (i > 0) {
                        out.append('\n');
                    }
                    out.append(String.format("%016x:", addr + (long) i * fmt.size()));
                }
                out.append(' ').append(unit(buf, i, fmt));
            }
            return out.toString();
        }
    }

    private static String unit(MemorySegment buf, int i, Format fmt) {
        long off = (long) i * fmt.size();
        long v = switch (fmt.size()) {
            case 1 -> buf.get(ValueLayout.JAVA_BYTE, off);
            case 2 -> buf.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), off);
            case 4 -> buf.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), off);
            default -> buf.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), off);
        };
        long unsigned = fmt.size() == 8 ? v : v & ((1L << (8 * fmt.size())) - 1);
        return switch (fmt.format()) {
            case 'd' -> Long.toString(v);
            case 'u' -> Long.toUnsignedString(unsigned);
            case 'o' -> "0" + Long.toOctalString(unsigned);
            case 'c' -> {
                char c = (char) (unsigned & 0xFF);
                yield c >= 32 && c < 127 ? "'" + c + "'" : String.format("'\\x%02x'", (int) c);
            }
            default -> String.format("0x%0" + (2 * fmt.size()) + "x", unsigned);
        };
    }
}
