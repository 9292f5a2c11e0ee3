package io.godwit.transport.file.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.privatefiles.internal.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code file:PATH[,offset=N]} transport, as QEMU's (8.2): a source saves the migration into the
 * file, a destination restores from it later. Seekable, so that {@code mapped-ram} writes every page
 * at its own offset; one-way (nothing answers from a file).
 *
 * <p>The source creates a missing file owner-only (0600; an existing one keeps its mode) and cuts it
 * to {@code offset}, as QEMU's ftruncate: what lies before the offset stays, an older save after it
 * goes.
 */
@Component(property = Transport.SCHEME + "=file")
public class FileTransport implements Transport {

    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.of(TransportCapability.SEEKABLE);
    }

    @Override
    public Set<TransportCapability> capabilities(String address) {
        FileAddress.parse(address);
        return capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        FileAddress a = FileAddress.parse(address);
        if (Files.exists(a.path()) && !Files.isRegularFile(a.path())) {
            throw new IOException(a + ": not a regular file");
        }
        FileChannel file = PrivateFiles.openReadWrite(a.path()).channel();
        try {
            file.truncate(a.offset());
            return new MigrationFile(file, a);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Checks the address; the file opens when the incoming migration accepts. */
    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        FileAddress a = FileAddress.parse(address);
        check(a);
        return new FileListener(a);
    }

    static MigrationFile openForReading(FileAddress a) throws IOException {
        check(a);
        FileChannel file = FileChannel.open(a.path(), StandardOpenOption.READ);
        try {
            return new MigrationFile(file, a);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static void check(FileAddress a) throws IOException {
        if (!Files.exists(a.path())) {
            throw new NoSuchFileException(a + ": no such file");
        }
        if (!Files.isRegularFile(a.path())) {
            throw new IOException(a + ": not a regular file");
        }
        if (Files.size(a.path()) < a.offset()) {
            throw new IOException(a + ": the file is " + Files.size(a.path()) + " bytes, shorter than its offset");
        }
    }
}
