package io.godwit.api.memory;

/** An access outside guest RAM: the analogue of an EPT violation with no memslot behind it. */
public class GuestMemoryFault extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long gpa;

    public GuestMemoryFault(long gpa, long length) {
        super(String.format("access outside guest RAM: 0x%x (+%d bytes)", gpa, length));
        this.gpa = gpa;
    }

    /** The guest physical address that faulted. */
    public long gpa() {
        return gpa;
    }
}
