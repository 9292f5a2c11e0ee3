package io.godwit.api.memory;

import java.util.List;

/**
 * Postcopy's figures on the destination, with QEMU's meanings.
 *
 * @param requests pages asked for because an access faulted on them (QEMU's postcopy-requests)
 * @param faults accesses that found their page missing, including those that waited on a page another
 *     thread had already asked for
 * @param blocktimeMs the time, in ms, during which at least one vCPU waited for a page (QEMU's
 *     postcopy-blocktime counts the time all vCPUs waited; this is the wider, more honest measure)
 * @param vcpuBlocktimeMs per vCPU, the time it waited for pages (QEMU's postcopy-vcpu-blocktime)
 * @param latencyBuckets fault latency from request to placement: bucket N counts faults resolved in
 *     {@code [2^N, 2^(N+1))} microseconds (QEMU's postcopy-latency-dist)
 * @param latencyMedianUs the median fault latency in microseconds, -1 before the first
 * @param dropped pages that arrived when they were present already, and were not placed again (after a
 *     recovery this counts pages the source sent twice)
 */
public record PostcopyStats(long requests, long faults, long blocktimeMs, List<Long> vcpuBlocktimeMs,
        List<Long> latencyBuckets, long latencyMedianUs, long dropped) {

    public PostcopyStats {
        vcpuBlocktimeMs = List.copyOf(vcpuBlocktimeMs);
        latencyBuckets = List.copyOf(latencyBuckets);
    }

    public static PostcopyStats none() {
        return new PostcopyStats(0, 0, 0, List.of(), List.of(), -1, 0);
    }
}
