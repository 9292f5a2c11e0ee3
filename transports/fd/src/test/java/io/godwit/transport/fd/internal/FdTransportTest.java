package io.godwit.transport.fd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What only fd does: consumption, the inherited-descriptor checks, capabilities per descriptor. */
class FdTransportTest {

    private final FdTransport fd = new FdTransport();

    @TempDir
    Path dir;

    @Test
    void aDescriptorIsConsumedAndASecondUseIsRefused() throws Throwable {
        int[] p = TestFds.pipe();
        try (IncomingListener listener = fd.listenIncoming("" + p[0]);
                MigrationChannel source = fd.connectOutgoing("" + p[1]);
                MigrationChannel destination = listener.accept()) {
            source.write(ByteBuffer.wrap("once".getBytes(StandardCharsets.UTF_8)));
            source.shutdownOutput();
            ByteBuffer got = ByteBuffer.allocate(8);
            while (destination.read(got) >= 0) {
                // to the end
            }
            assertEquals("once", new String(got.array(), 0, got.position(), StandardCharsets.UTF_8));
        }
        IOException again = assertThrows(IOException.class, () -> fd.connectOutgoing("" + p[1]));
        assertEquals("fd:" + p[1] + ": used already; a descriptor serves one migration and is closed after it",
                again.getMessage());
        assertThrows(IOException.class, () -> fd.listenIncoming("" + p[0]));
        assertTrue(Files.notExists(Path.of("/proc/self/fd/" + p[0])), "closed after use");
        assertTrue(Files.notExists(Path.of("/proc/self/fd/" + p[1])), "closed after use");
    }

    @Test
    void aNumberStaysRefusedWhenTheKernelReusesIt() throws Throwable {
        int[] first = TestFds.pipe();
        fd.connectOutgoing("" + first[1]).close();
        TestFds.close(first[0]);
        int[] second = TestFds.pipeAt(first[1], first[0]); // the same numbers, new pipes of this process
        try {
            IOException e = assertThrows(IOException.class, () -> fd.connectOutgoing("" + second[1]));
            assertEquals("fd:" + second[1] + ": used already; a descriptor serves one migration and is closed after it",
                    e.getMessage());
            assertTrue(Files.exists(Path.of("/proc/self/fd/" + second[1])), "the refusal leaves the new descriptor alone");
        } finally {
            TestFds.close(second[0]);
            TestFds.close(second[1]);
        }
    }

    @Test
    void theSharedFileStatusFlagsAreRestoredAtTheClose() throws Throwable {
        int[] p = TestFds.pipe();
        int parentsCopy = TestFds.dup(p[1]); // shares the open file description, and so its O_NONBLOCK
        try {
            MigrationChannel c = fd.connectOutgoing("" + p[1]);
            assertEquals(Libc.O_NONBLOCK, flags(parentsCopy) & Libc.O_NONBLOCK, "non-blocking while in use");
            c.close();
            assertEquals(0, flags(parentsCopy) & Libc.O_NONBLOCK, "the parent's copy is blocking again");
        } finally {
            TestFds.close(parentsCopy);
            TestFds.close(p[0]);
        }
    }

    private static int flags(int n) {
        try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
            return Libc.fcntl(Libc.state(tmp), n, Libc.F_GETFL, 0);
        }
    }

    @Test
    void theStandardDescriptorsAreRefused() {
        for (int n = 0; n <= 2; n++) {
            String a = "" + n;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fd.connectOutgoing(a));
            assertTrue(e.getMessage().startsWith("fd:" + n + " is the host's own standard "), e.getMessage());
        }
    }

    @Test
    void aListenerClosedBeforeAcceptClosesItsDescriptor() throws Throwable {
        int[] p = TestFds.pipe();
        IncomingListener listener = fd.listenIncoming("" + p[0]);
        listener.close();
        // the write end now has no reader
        try (MigrationChannel source = fd.connectOutgoing("" + p[1])) {
            IOException e = assertThrows(IOException.class, () -> source.write(ByteBuffer.allocate(1)));
            assertEquals("fd:" + p[1] + ": write: broken pipe", e.getMessage());
        }
    }

    @Test
    void aDescriptorThatIsNotOpenIsNamed() {
        IOException e = assertThrows(IOException.class, () -> fd.connectOutgoing("987654"));
        assertEquals("fd:987654: not an open descriptor", e.getMessage());
        // a failed check does not consume the number
        assertThrows(IOException.class, () -> fd.connectOutgoing("987654"));
        assertTrue(!fd.used(987654));
    }

    @Test
    void theWrongDirectionIsRefusedUpFront() throws Throwable {
        int[] p = TestFds.pipe();
        try {
            IOException out = assertThrows(IOException.class, () -> fd.connectOutgoing("" + p[0]));
            assertEquals("fd:" + p[0] + ": open for reading only; a source writes the stream", out.getMessage());
            IOException in = assertThrows(IOException.class, () -> fd.listenIncoming("" + p[1]));
            assertEquals("fd:" + p[1] + ": open for writing only; a destination reads the stream", in.getMessage());
        } finally {
            TestFds.close(p[0]);
            TestFds.close(p[1]);
        }
    }

    @Test
    void aSocketIsTwoWayAndAPipeOneWay() throws Throwable {
        int[] s = TestFds.socketpair();
        int[] p = TestFds.pipe();
        try {
            assertEquals(Set.of(TransportCapability.BIDIRECTIONAL), fd.capabilities("" + s[0]));
            assertEquals(Set.of(), fd.capabilities("" + p[1]));
            assertEquals(Set.of(), fd.capabilities("" + p[1])); // asking consumes nothing
        } finally {
            for (int n : new int[] {s[0], s[1], p[0], p[1]}) {
                TestFds.close(n);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x", "-1", "5 ", "1234567890", "0x5"})
    void aBadNumberIsRefused(String address) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fd.connectOutgoing(address));
        assertEquals("fd address must be a descriptor number, as in fd:5: '" + address + "'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fd.listenIncoming(address));
    }
}
