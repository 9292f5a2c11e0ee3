package io.godwit.kernel.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.memory.PageRequester;
import io.godwit.api.memory.PageSource;
import io.godwit.api.memory.PostcopyRam;
import io.godwit.api.memory.PostcopyStats;
import io.godwit.api.memory.RamBlock;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Postcopy's missing pages (see {@link PostcopyRam}): a present bitmap read with acquire and set with
 * release after the page's bytes are in place, so a thread that sees the bit sees the bytes; a
 * requested bitmap so each page is asked for once; one monitor on which faulting threads wait.
 *
 * <p>Why no thread blocks in a real page fault: the guest's accesses are Java code that asks
 * {@link #present} before it reaches RAM, so a waiting vCPU waits in {@link Object#wait}, where the
 * JVM can reach a safepoint, and the thread that places pages (the migration's reader) never waits for
 * a vCPU. A userfaultfd design would put a Java thread into a kernel fault that only another Java
 * thread can resolve: a safepoint requested meanwhile would wait for the faulting thread forever.
 */
final class KernelPostcopy implements PostcopyRam {

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int BUCKETS = 24;

    private final KernelGuestMemory memory;
    private final PageRequester requester;
    private final long pages;
    private final long[] present;
    private final long[] requested;
    private final Object arrival = new Object();
    /** When each outstanding request went out, for the fault latency. */
    private final ConcurrentHashMap<Long, Long> requestNanos = new ConcurrentHashMap<>();
    private final AtomicLongArray latency = new AtomicLongArray(BUCKETS);
    private final AtomicLongArray vcpuBlockedNanos;
    private long missing; // guarded by arrival
    private int waiting; // guarded by arrival
    private long blockedSinceNanos; // guarded by arrival: when the first of the waiting started
    private long blockedNanos; // guarded by arrival
    private final java.util.concurrent.atomic.LongAdder requests = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder faults = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder dropped = new java.util.concurrent.atomic.LongAdder();
    /** The first fault latencies in microseconds, for an exact median (the histogram's is a bucket). */
    private final long[] samples = new long[1 << 16];
    private final java.util.concurrent.atomic.AtomicInteger sampled = new java.util.concurrent.atomic.AtomicInteger();
    /** Where a page that is present already is read to and dropped (placeRun, on the placing thread). */
    private final MemorySegment scratch = java.lang.foreign.Arena.ofAuto().allocate(RamBlock.PAGE_SIZE);
    private volatile String abortReason;
    private volatile boolean ended;

    KernelPostcopy(KernelGuestMemory memory, DirtyBitmap missingPages, PageRequester requester, int vcpus) {
        this.memory = memory;
        this.requester = requester;
        this.pages = memory.pages();
        if (missingPages.pages() != pages) {
            throw new IllegalArgumentException("a map of " + missingPages.pages() + " pages for " + pages);
        }
        this.present = new long[missingPages.wordCount()];
        this.requested = new long[present.length];
        for (int w = 0; w < present.length; w++) {
            present[w] = ~missingPages.word(w);
        }
        this.missing = missingPages.count();
        this.vcpuBlockedNanos = new AtomicLongArray(vcpus);
        VarHandle.releaseFence();
    }

    @Override
    public boolean present(long page) {
        return ((long) WORDS.getAcquire(present, (int) (page >>> 6)) & (1L << page)) != 0;
    }

    /**
     * The fault path of an access to {@code [gpa, gpa + len)}: returns at once when every page is
     * present, else asks for the missing ones and waits. {@code vcpu} is the vCPU's index, or -1 for
     * another thread (DMA, a device).
     */
    void fault(long gpa, long len, int vcpu) {
        long first = gpa >>> RamBlock.PAGE_SHIFT;
        long last = (gpa + Math.max(1, len) - 1) >>> RamBlock.PAGE_SHIFT;
        for (long p = first; p <= last && p < pages; p++) {
            if (!present(p)) {
                await(p, vcpu);
            }
        }
    }

    private void await(long page, int vcpu) {
        faults.increment();
        if (firstRequest(page)) {
            requestNanos.put(page, System.nanoTime());
            requests.increment();
            requester.request(page);
        }
        long t0 = System.nanoTime();
        synchronized (arrival) {
            if (waiting++ == 0) {
                blockedSinceNanos = t0;
            }
            try {
                while (!present(page)) {
                    String why = abortReason;
                    if (why != null) {
                        throw new GuestMemoryFault(page << RamBlock.PAGE_SHIFT, RamBlock.PAGE_SIZE);
                    }
                    arrival.wait(10);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GuestMemoryFault(page << RamBlock.PAGE_SHIFT, RamBlock.PAGE_SIZE);
            } finally {
                long now = System.nanoTime();
                if (--waiting == 0) {
                    blockedNanos += now - blockedSinceNanos;
                }
                if (vcpu >= 0 && vcpu < vcpuBlockedNanos.length()) {
                    vcpuBlockedNanos.addAndGet(vcpu, now - t0);
                }
            }
        }
    }

    private boolean firstRequest(long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << page;
        return ((long) WORDS.getAndBitwiseOr(requested, w, bit) & bit) == 0;
    }

    @Override
    public boolean place(long page, MemorySegment src) {
        checkPage(page);
        if (present(page)) {
            dropped.increment();
            return false;
        }
        KernelRamBlock b = memory.find(page << RamBlock.PAGE_SHIFT, RamBlock.PAGE_SIZE);
        MemorySegment.copy(src, 0, b.raw(), (page << RamBlock.PAGE_SHIFT) - b.base(), RamBlock.PAGE_SIZE);
        arrived(page);
        return true;
    }

    @Override
    public long placeRun(long first, int count, PageSource source) throws IOException {
        checkPage(first);
        checkPage(first + count - 1);
        KernelRamBlock b = memory.find(first << RamBlock.PAGE_SHIFT, (long) count << RamBlock.PAGE_SHIFT);
        long placed = 0;
        int i = 0;
        while (i < count) {
            long page = first + i;
            if (present(page)) {
                source.read(scratch);
                dropped.increment();
                i++;
                continue;
            }
            int n = 1;
            while (i + n < count && !present(page + n)) {
                n++;
            }
            source.read(b.raw().asSlice((page << RamBlock.PAGE_SHIFT) - b.base(), (long) n << RamBlock.PAGE_SHIFT));
            arrived(page, n);
            placed += n;
            i += n;
        }
        return placed;
    }

    @Override
    public boolean placeZero(long page) {
        checkPage(page);
        if (present(page)) {
            dropped.increment();
            return false;
        }
        KernelRamBlock b = memory.find(page << RamBlock.PAGE_SHIFT, RamBlock.PAGE_SIZE);
        b.raw().asSlice((page << RamBlock.PAGE_SHIFT) - b.base(), RamBlock.PAGE_SIZE).fill((byte) 0);
        arrived(page);
        return true;
    }

    private void checkPage(long page) {
        if (page < 0 || page >= pages) {
            throw new IllegalArgumentException("page " + page + " is outside RAM (" + pages + " pages)");
        }
    }

    private void arrived(long page) {
        arrived(page, 1);
    }

    /**
     * The bytes of {@code n} pages from {@code page} are in place: publish their bits (release, a word
     * at a time), then wake whoever waits, once.
     */
    private void arrived(long page, int n) {
        long end = page + n;
        for (long p = page; p < end; ) {
            int w = (int) (p >>> 6);
            long upto = Math.min(end, ((long) w + 1) << 6);
            long bits = upto - p == 64 ? -1L : ((1L << (upto - p)) - 1) << p;
            WORDS.getAndBitwiseOrRelease(present, w, bits);
            p = upto;
        }
        if (!requestNanos.isEmpty()) {
            for (long p = page; p < end; p++) {
                latencyOf(p);
            }
        }
        synchronized (arrival) {
            missing -= n;
            if (waiting > 0) {
                arrival.notifyAll();
            }
        }
    }

    private void latencyOf(long page) {
        Long asked = requestNanos.remove(page);
        if (asked != null) {
            long us = Math.max(1, (System.nanoTime() - asked) / 1000);
            latency.incrementAndGet(Math.min(BUCKETS - 1, 63 - Long.numberOfLeadingZeros(us)));
            int i = sampled.getAndIncrement();
            if (i < samples.length) {
                samples[i] = us;
            }
        }
    }

    @Override
    public long missing() {
        synchronized (arrival) {
            return missing;
        }
    }

    @Override
    public void touch(long gpa, long len) {
        if (!ended) {
            fault(gpa, len, -1);
        }
    }

    @Override
    public void end() {
        if (missing() != 0) {
            throw new IllegalStateException(missing() + " pages are still missing");
        }
        ended = true;
        memory.postcopyEnded(this);
    }

    @Override
    public void abort(String why) {
        abortReason = why;
        synchronized (arrival) {
            arrival.notifyAll();
        }
    }

    boolean aborted() {
        return abortReason != null;
    }

    @Override
    public PostcopyStats stats() {
        List<Long> buckets = new ArrayList<>();
        for (int i = 0; i < BUCKETS; i++) {
            buckets.add(latency.get(i));
        }
        List<Long> perVcpu = new ArrayList<>();
        for (int i = 0; i < vcpuBlockedNanos.length(); i++) {
            perVcpu.add(vcpuBlockedNanos.get(i) / 1_000_000);
        }
        long blocked;
        synchronized (arrival) {
            blocked = blockedNanos + (waiting > 0 ? System.nanoTime() - blockedSinceNanos : 0);
        }
        return new PostcopyStats(requests.sum(), faults.sum(), blocked / 1_000_000, perVcpu, buckets, median(), dropped.sum());
    }

    /** The exact median of the sampled latencies (a racing sample may read 0: it only nudges the median). */
    private long median() {
        int n = Math.min(sampled.get(), samples.length);
        if (n == 0) {
            return -1;
        }
        long[] copy = java.util.Arrays.copyOf(samples, n);
        java.util.Arrays.sort(copy);
        return copy[n / 2];
    }
}
