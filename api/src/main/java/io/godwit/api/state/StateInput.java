package io.godwit.api.state;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Reads state written through a {@link StateOutput}. The bytes came from another host: every read
 * is checked, and a truncated, oversized or mistyped field throws {@link StateFormatException} rather
 * than returning something invented.
 *
 * <p>Implemented by the migration stream. Called on the incoming migration thread with the VM
 * stopped.
 */
@ProviderType
public interface StateInput {

    boolean readBoolean();

    int readInt();

    long readLong();

    double readDouble();

    /** A byte array of at most {@code maxLength} bytes. */
    byte[] readBytes(int maxLength);

    /** A UTF-8 string of at most {@code maxLength} bytes. */
    String readString(int maxLength);

    /** The named subsection, if the writer sent it. */
    Optional<StateInput> subsection(String name);
}
