package io.godwit.api.state;

import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where a CPU or device writes its state for migration (QEMU's VMState fields, without a schema
 * language). Fields are read back in the order they were written; the reader's
 * {@link StateInput} is told the version the writer used.
 *
 * <p>Implemented by the migration stream. Called on the migration thread, with the VM stopped unless
 * the state is iterative.
 */
@ProviderType
public interface StateOutput {

    void writeBoolean(boolean value);

    void writeInt(int value);

    void writeLong(long value);

    void writeDouble(double value);

    /** A byte array with its length. */
    void writeBytes(byte[] value);

    /** A UTF-8 string with its length. */
    void writeString(String value);

    /**
     * An optional named part, written only when it is needed (QEMU's subsection): a destination
     * that does not know the name refuses the state, and one that does not find it carries on.
     */
    void subsection(String name, Consumer<StateOutput> body);
}
