package io.godwit.distribution;

import io.godwit.wire.FrameType;
import io.godwit.wire.proto.ReturnMessage;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP proxy on 127.0.0.1 between a source and a destination host that resets both connections
 * (SO_LINGER 0, an RST) right after it relayed the destination's LOADED to the source: the return
 * path breaks between LOADED and RESUMED, as when the source dies at that moment. The stream goes
 * through untouched; the return path is read frame by frame (type byte, length, message) to find
 * LOADED. One connection, then it closes.
 */
final class ResettingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private volatile boolean reset;
    private volatile Socket toSource;
    private volatile Socket toDestination;

    ResettingProxy(String destinationHostPort) throws IOException {
        int colon = destinationHostPort.lastIndexOf(':');
        target = new InetSocketAddress(destinationHostPort.substring(0, colon),
                Integer.parseInt(destinationHostPort.substring(colon + 1)));
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("proxy-accept").start(this::serve);
    }

    /** The URI the source migrates to. */
    String uri() {
        return "tcp:127.0.0.1:" + server.getLocalPort();
    }

    /** True once LOADED was relayed and both connections were reset. */
    boolean didReset() {
        return reset;
    }

    private void serve() {
        try {
            toSource = server.accept();
            toDestination = new Socket(target.getAddress(), target.getPort());
            Thread.ofPlatform().daemon().name("proxy-stream").start(this::relayStream);
            relayReturnPath();
        } catch (IOException e) {
            // a reset or the test's close ends it
        }
    }

    private void relayStream() {
        try {
            toSource.getInputStream().transferTo(toDestination.getOutputStream());
        } catch (IOException e) {
            // the reset ends it
        }
    }

    private void relayReturnPath() throws IOException {
        DataInputStream in = new DataInputStream(toDestination.getInputStream());
        OutputStream out = toSource.getOutputStream();
        while (true) {
            int type;
            try {
                type = in.readUnsignedByte();
            } catch (EOFException e) {
                return;
            }
            int len = in.readInt();
            byte[] payload = in.readNBytes(len);
            out.write(type);
            out.write(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
            out.write(payload);
            out.flush();
            if (type == FrameType.RETURN.code()
                    && ReturnMessage.parseFrom(payload).getKind() == ReturnMessage.Kind.LOADED) {
                resetBoth();
                return;
            }
        }
    }

    private void resetBoth() throws IOException {
        for (Socket s : new Socket[] {toDestination, toSource}) {
            s.setSoLinger(true, 0);
            s.close();
        }
        reset = true;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : new Socket[] {toSource, toDestination}) {
            if (s != null) {
                s.close();
            }
        }
    }
}
