package io.godwit.api.vm;

/**
 * One vCPU as {@code info cpus} shows it.
 *
 * @param index the vCPU's index
 * @param thread the name of its thread
 * @param threadId the thread's id on the host (Linux's TID, as QEMU's {@code thread-id}: what
 *     {@code top -H} and {@code /proc/PID/task/} show), or -1 before it runs
 * @param state {@code running} (also while a busy guest paces itself, {@code VcpuExit.WAIT}, as a
 *     rate-limited sweep does between bursts), {@code halted} (idle: {@code VcpuExit.HALT}) or
 *     {@code stopped}
 * @param progress work retired so far
 * @param progressUnit unit of {@code progress}, for example {@code writes}
 * @param ratePerSecond recent progress per second
 */
public record VcpuInfo(
        int index, String thread, long threadId, String state, long progress, String progressUnit, double ratePerSecond) {}
