package io.godwit.distribution;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * The activator of a plugin that takes its time to start, packed into a deploy/ jar by
 * {@link SettingsIT}: a host that reported ready before deploy/'s first scan had finished would
 * show it Starting (or not installed), not Active.
 */
public final class SlowActivator implements BundleActivator {

    static final long START_MS = 3000;

    @Override
    public void start(BundleContext context) throws InterruptedException {
        Thread.sleep(START_MS);
    }

    @Override
    public void stop(BundleContext context) {
    }
}
