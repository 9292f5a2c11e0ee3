package io.godwit.launcher;

import java.util.Dictionary;

/**
 * The order in which the boot bundles start, and, reversed, the order in which they stop.
 * <ol>
 *   <li>{@link #EXTENDERS}: SPI Fly first, then the {@code osgi.serviceloader} providers
 *       (slf4j-jdk14). slf4j binds its provider once, on the first logger; anything that logs
 *       before the provider is active leaves every logger on NOP for the life of the process
 *       (a failure seen in the stack spike).</li>
 *   <li>{@link #LOGGING}: slf4j-api, which the launcher binds at once (see {@link HostLog}).</li>
 *   <li>{@link #INFRASTRUCTURE}: the rest of the runtime (SCR, Gogo, FileInstall, libraries).</li>
 *   <li>{@link #APPLICATION}: godwit's own bundles ({@code io.godwit.*}), in file-name order.</li>
 *   <li>{@link #DEPLOYER}: FileInstall, so that the plugins of {@code deploy/} (which it installs
 *       while it starts) come after the system set they plug into.</li>
 *   <li>{@link #CONSOLE}: gogo.jline, last, and only in console mode: a console that starts before
 *       the commands are registered answers "command not found" to the first line typed.</li>
 * </ol>
 * Why the stop order matters: Felix stops the bundles of one start level in descending bundle id,
 * so the launcher installs them in this order too. SCR then stops after every godwit bundle, and
 * the kernel before the CPU backends it uses: a VM is shut down by its kernel, not failed by the
 * disappearance of its backend. Bundles hot-deployed into {@code deploy/} have the highest ids and
 * stop first. Fragments ({@code Fragment-Host}) are never started; they attach to their host.
 */
public enum StartPass {
    EXTENDERS,
    LOGGING,
    INFRASTRUCTURE,
    APPLICATION,
    DEPLOYER,
    CONSOLE,
    /** A fragment: installed, never started. */
    NONE;

    public static final String CONSOLE_BSN = "org.apache.felix.gogo.jline";
    public static final String SLF4J_API_BSN = "slf4j.api";
    public static final String APPLICATION_PREFIX = "io.godwit.";
    public static final String DEPLOYER_BSN = "org.apache.felix.fileinstall";

    /** Classifies a bundle from its manifest headers. */
    public static StartPass of(Dictionary<String, String> headers) {
        if (headers.get("Fragment-Host") != null) {
            return NONE;
        }
        String bsn = symbolicName(headers.get("Bundle-SymbolicName"));
        if (CONSOLE_BSN.equals(bsn)) {
            return CONSOLE;
        }
        if (SLF4J_API_BSN.equals(bsn)) {
            return LOGGING;
        }
        if (DEPLOYER_BSN.equals(bsn)) {
            return DEPLOYER;
        }
        String provides = headers.get("Provide-Capability");
        if (provides != null && provides.contains("osgi.serviceloader")) {
            return EXTENDERS;
        }
        return bsn.startsWith(APPLICATION_PREFIX) ? APPLICATION : INFRASTRUCTURE;
    }

    /**
     * Inside {@link #EXTENDERS}, the mediator (which provides the {@code osgi.extender} capability)
     * goes before the bundles that register through it.
     */
    public static int rankInPass(Dictionary<String, String> headers) {
        String provides = headers.get("Provide-Capability");
        return provides != null && provides.contains("osgi.extender") ? 0 : 1;
    }

    /** The symbolic name without its directives ({@code ;singleton:=true}). */
    static String symbolicName(String header) {
        if (header == null) {
            return "";
        }
        int semicolon = header.indexOf(';');
        return (semicolon < 0 ? header : header.substring(0, semicolon)).trim();
    }
}
