package io.godwit.cpu.riscv.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The UART's output, kept by the host per VM for {@code info console}. Bounded: past
 * {@link #CAPACITY} bytes the oldest half is dropped. Written by the harts, read by the shell.
 */
final class Console {

    static final int CAPACITY = 64 * 1024;

    private ByteArrayOutputStream out = new ByteArrayOutputStream();

    synchronized void write(byte b) {
        if (out.size() >= CAPACITY) {
            byte[] all = out.toByteArray();
            out = new ByteArrayOutputStream();
            out.write(all, all.length / 2, all.length - all.length / 2);
        }
        out.write(b);
    }

    synchronized byte[] snapshot() {
        return out.toByteArray();
    }

    synchronized void restore(byte[] bytes) {
        out = new ByteArrayOutputStream();
        out.write(bytes, 0, bytes.length);
    }

    synchronized String text() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
