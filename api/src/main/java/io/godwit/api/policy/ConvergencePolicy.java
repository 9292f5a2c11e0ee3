package io.godwit.api.policy;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides, after each dirty bitmap sync, whether to switch over, go on, or throttle the guest.
 * QEMU's rule (switch over when the pending data fits {@code bandwidth x downtime-limit}) is the
 * default; others plug in.
 *
 * <p>A whiteboard service with the property {@link #NAME}. Called on the migration thread; must not
 * block.
 */
@ConsumerType
public interface ConvergencePolicy {

    /** Service property (String, required): the policy's name. */
    String NAME = "godwit.policy";

    Decision decide(PassSnapshot pass);
}
