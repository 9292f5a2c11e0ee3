package io.godwit.transport.fd.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code fd:N} transport, as QEMU's: a descriptor the host inherited from the process that
 * started it (a pipe, a file or a socket, as libvirt passes them). A source writes the stream to it,
 * a destination reads it. The descriptor is consumed: closed when the migration ends, and its number
 * is refused afterwards (the number may by then name something else this process opened).
 *
 * <p>Why FFM on the descriptor itself and not {@code /proc/self/fd/N}: opening that path makes a new
 * open file description (a file would be read from offset 0, not from where the parent left it), it
 * cannot open a socket at all (ENXIO), and it would leave the inherited descriptor open. read(2),
 * writev(2), poll(2) and close(2) on N do exactly what the parent passed.
 */
@Component(property = Transport.SCHEME + "=fd")
public class FdTransport implements Transport {

    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,9}");

    /**
     * Each number taken by a migration, with what it named then ({@code pipe:[1234]}, a path). The
     * same number naming the same open file again is a second use; the number reused by the kernel
     * for a new descriptor (another pipe) is a new descriptor.
     */
    private final Map<Integer, String> used = new ConcurrentHashMap<>();

    /** A socket is two-way; a pipe or a file is one-way. */
    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.of(TransportCapability.BIDIRECTIONAL);
    }

    @Override
    public Set<TransportCapability> capabilities(String address) {
        int fd = parse(address);
        try {
            return Inherited.kind(fd) == Inherited.Kind.SOCKET ? capabilities() : EnumSet.noneOf(TransportCapability.class);
        } catch (IOException e) {
            return EnumSet.noneOf(TransportCapability.class); // not open: connect will say so
        }
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        Inherited d = claim(parse(address), Inherited.Direction.WRITE);
        try {
            return new FdChannel(d);
        } catch (IOException | RuntimeException e) {
            d.closeUnused();
            throw e;
        }
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        return new FdListener(claim(parse(address), Inherited.Direction.READ));
    }

    /** Takes the descriptor for one migration; a descriptor that fails the checks stays untouched and unclaimed. */
    private synchronized Inherited claim(int fd, Inherited.Direction direction) throws IOException {
        // Once consumed, a number stays refused even when the kernel hands it out again: the new
        // descriptor behind it then belongs to this process (a jar, a socket), not to whoever
        // started the host, and a migration must not read, write or close it.
        if (used.containsKey(fd)) {
            throw new IOException("fd:" + fd + ": used already; a descriptor serves one migration and is closed after it");
        }
        String target = Inherited.target(fd);
        Inherited d = Inherited.check(fd, direction);
        used.put(fd, target);
        return d;
    }

    static int parse(String address) {
        if (!NUMBER.matcher(address).matches()) {
            throw new IllegalArgumentException("fd address must be a descriptor number, as in fd:5: '" + address + "'");
        }
        int fd = Integer.parseInt(address);
        if (fd <= 2) {
            throw new IllegalArgumentException("fd:" + fd + " is the host's own standard "
                    + (fd == 0 ? "input" : fd == 1 ? "output" : "error") + "; pass the stream on descriptor 3 or above");
        }
        return fd;
    }

    /** Whether a number was taken by a migration (tests: a taken number must not be closed by them). */
    boolean used(int fd) {
        return used.containsKey(fd);
    }
}
