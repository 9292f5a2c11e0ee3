package io.godwit.dirty.common.internal;

import io.godwit.api.dirty.VcpuRendezvous;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * Kicking vCPUs out of guest mode through the kernel's rendezvous, counted as exits. An action that
 * runs on a vCPU's own thread interrupted that vCPU (KVM's IPI and VM exit): it counts as a kick and
 * the vCPU pays one {@link ExitCost exit}. An action the rendezvous runs on the caller's thread was for
 * a parked vCPU, which is not in guest mode: no kick, no exit (KVM does not IPI a vCPU outside
 * KVM_RUN either).
 */
public final class Kicks {

    private final LongAdder kicks = new LongAdder();
    private final long exitCostNs;

    public Kicks(long exitCostNs) {
        this.exitCostNs = exitCostNs;
    }

    /** Runs {@code action(vcpu)} on every vCPU and returns when all have run it. */
    public void onEachVcpu(VcpuRendezvous vcpus, IntConsumer action) throws InterruptedException {
        Thread caller = Thread.currentThread();
        vcpus.onEachVcpu(i -> {
            if (Thread.currentThread() != caller) {
                kicks.increment();
                ExitCost.pay(exitCostNs);
            }
            action.accept(i);
        });
    }

    /** vCPUs kicked so far. */
    public long count() {
        return kicks.sum();
    }
}
