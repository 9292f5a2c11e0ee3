package io.godwit.transport.fd.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.MigrationContract;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Nested;

/**
 * Migrations over descriptors made as a parent process would pass them: a socketpair (two-way, with
 * the return path) and a pipe (one-way, return-path off). One host holds both VMs, so both ends are here.
 */
class FdMigrationTest {

    abstract static class Base extends MigrationContract {
        private final FdTransport fd = new FdTransport();
        private final Map<String, Integer> partners = new HashMap<>();

        abstract int[] pair() throws Throwable;

        @Override
        protected Transport transport() {
            return fd;
        }

        @Override
        protected String scheme() {
            return "fd";
        }

        @Override
        protected String incomingUri() throws IOException {
            try {
                int[] p = pair();
                partners.put("fd:" + p[0], p[1]);
                return "fd:" + p[0];
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }

        @Override
        protected String outgoingUri(String listenUri) {
            return "fd:" + partners.get(listenUri);
        }
    }

    @Nested
    class OverASocketpair extends Base {
        @Override
        int[] pair() throws Throwable {
            return TestFds.socketpair();
        }
    }

    @Nested
    class OverAPipe extends Base {
        @Override
        int[] pair() throws Throwable {
            return TestFds.pipe();
        }
    }
}
