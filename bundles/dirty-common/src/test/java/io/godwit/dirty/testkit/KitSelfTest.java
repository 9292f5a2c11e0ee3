package io.godwit.dirty.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.GuestMemory;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.MethodSource;

/** The kit has teeth: it fails trackers that lose stores, report clean pages, or never flush. */
class KitSelfTest {

    private static final String[] TRACKER_LEVEL = {
        "reportsExactlyThePagesStoredToAndNothingElse", "aStoreAfterAHarvestIsInTheNextHarvest",
        "manyVcpusStoringWhileSyncsRepeat",
    };

    /** Runs the kit's tracker-level tests on {@code contract} and returns the names of those that failed. */
    private static Set<String> failures(Class<? extends DirtyTrackerContract> contract) {
        var request = LauncherDiscoveryRequestBuilder.request();
        for (String m : TRACKER_LEVEL) {
            request.selectors(DiscoverySelectors.selectMethod(contract, m));
        }
        LauncherDiscoveryRequest r = request.build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(r, listener);
        Set<String> failed = new TreeSet<>();
        listener.getSummary().getFailures().forEach(f -> f.getTestIdentifier().getSource()
                .filter(MethodSource.class::isInstance)
                .ifPresent(s -> {
                    String m = ((MethodSource) s).getMethodName();
                    failed.add(m);
                    String why = String.valueOf(f.getException().getMessage());
                    System.out.println(contract.getSimpleName() + "." + m + " failed as it should: "
                            + why.substring(0, Math.min(240, why.length())));
                }));
        assertEquals(TRACKER_LEVEL.length, listener.getSummary().getTestsFoundCount());
        return failed;
    }

    @Test
    void aTrackerThatDoesNotReArmFails() {
        Set<String> failed = failures(ForgetfulContract.class);
        assertTrue(failed.containsAll(Set.of("reportsExactlyThePagesStoredToAndNothingElse",
                "aStoreAfterAHarvestIsInTheNextHarvest", "manyVcpusStoringWhileSyncsRepeat")), failed.toString());
    }

    @Test
    void aTrackerThatReportsCleanPagesFails() {
        Set<String> failed = failures(ChattyContract.class);
        assertTrue(failed.containsAll(Set.of("reportsExactlyThePagesStoredToAndNothingElse",
                "manyVcpusStoringWhileSyncsRepeat")), failed.toString());
    }

    @Test
    void aPmlThatDoesNotKickBeforeHarvestingFails() {
        Set<String> failed = failures(UnkickedContract.class);
        assertTrue(failed.containsAll(Set.of("reportsExactlyThePagesStoredToAndNothingElse",
                "aStoreAfterAHarvestIsInTheNextHarvest", "manyVcpusStoringWhileSyncsRepeat")), failed.toString());
    }

    @Test
    void aTrackerThatAnswersCacheableWithoutKickingFails() {
        Set<String> failed = failures(OvercachingContract.class);
        assertTrue(failed.containsAll(Set.of("reportsExactlyThePagesStoredToAndNothingElse",
                "aStoreAfterAHarvestIsInTheNextHarvest", "manyVcpusStoringWhileSyncsRepeat")), failed.toString());
    }

    // Broken trackers. Nested, so surefire does not run their contracts on its own.

    /** Harvests each page once for good: stores after a page's first harvest are lost. */
    static final class ForgetfulContract extends DirtyTrackerContract {
        @Override
        protected DirtyTracker tracker() {
            return new Broken((pages, bitmap, seen) -> p -> {
                if (!seen.test(p)) {
                    seen.set(p);
                    bitmap.set(p);
                }
            }, false);
        }

        @Override
        protected String name() {
            return "forgetful";
        }
    }

    /** Never clears: every page stored to since logging started is in every harvest. */
    static final class ChattyContract extends DirtyTrackerContract {
        @Override
        protected DirtyTracker tracker() {
            return new Broken((pages, bitmap, seen) -> p -> {
                bitmap.set(p);
                seen.set(p);
            }, true);
        }

        @Override
        protected String name() {
            return "chatty";
        }
    }

    /**
     * Marks a bitmap on every store it sees, correctly, but answers every page of the group as
     * cacheable and never kicks: after a harvest, the stores a vCPU makes under an old answer are lost.
     */
    static final class OvercachingContract extends DirtyTrackerContract {
        @Override
        protected DirtyTracker tracker() {
            return new Broken((pages, bitmap, seen) -> new WriteHook() {
                @Override
                public void onWrite(long page) {
                    bitmap.set(page);
                }

                @Override
                public long onWriteCacheable(long page) {
                    onWrite(page);
                    return -1L;
                }
            }, false);
        }

        @Override
        protected String name() {
            return "overcaching";
        }
    }

    /** Logs per vCPU like PML but harvests without kicking: entries still in a log are missed. */
    static final class UnkickedContract extends DirtyTrackerContract {
        @Override
        protected DirtyTracker tracker() {
            return new DirtyTracker() {
                @Override
                public DirtyLog create(GuestMemory memory, int vcpus) {
                    DirtyBitmap bitmap = new DirtyBitmap(memory.pages());
                    return new SimpleLog(bitmap, i -> new WriteHook() {
                        final long[] log = new long[512];
                        int n;

                        @Override
                        public void onWrite(long page) {
                            if (n == log.length) {
                                for (long p : log) {
                                    bitmap.set(p);
                                }
                                n = 0;
                            }
                            log[n++] = page;
                        }
                    }, null);
                }

                @Override
                public String description() {
                    return "PML without the kick";
                }
            };
        }

        @Override
        protected String name() {
            return "unkicked";
        }
    }

    private interface HookFactory {
        WriteHook make(long pages, DirtyBitmap bitmap, DirtyBitmap seen);
    }

    private record Broken(HookFactory hooks, boolean reportSeen) implements DirtyTracker {
        @Override
        public DirtyLog create(GuestMemory memory, int vcpus) {
            DirtyBitmap bitmap = new DirtyBitmap(memory.pages());
            DirtyBitmap seen = new DirtyBitmap(memory.pages());
            WriteHook hook = hooks.make(memory.pages(), bitmap, seen);
            return new SimpleLog(bitmap, i -> hook, reportSeen ? seen : null);
        }

        @Override
        public String description() {
            return "broken on purpose";
        }
    }

    private static final class SimpleLog implements DirtyLog {
        private final DirtyBitmap bitmap;
        private final java.util.function.IntFunction<WriteHook> hooks;
        private final DirtyBitmap alsoReport;
        private final Map<Integer, WriteHook> made = new java.util.concurrent.ConcurrentHashMap<>();

        SimpleLog(DirtyBitmap bitmap, java.util.function.IntFunction<WriteHook> hooks, DirtyBitmap alsoReport) {
            this.bitmap = bitmap;
            this.hooks = hooks;
            this.alsoReport = alsoReport;
        }

        @Override
        public WriteHook hook(int vcpu) {
            return made.computeIfAbsent(vcpu, hooks::apply);
        }

        @Override
        public void start(VcpuRendezvous vcpus) {
            bitmap.clear();
        }

        @Override
        public long sync(DirtyBitmap target, VcpuRendezvous vcpus) {
            long n = bitmap.harvestInto(target);
            if (alsoReport != null) {
                for (int w = 0; w < alsoReport.wordCount(); w++) {
                    target.orWord(w, alsoReport.word(w));
                }
                n = target.count();
            }
            return n;
        }

        @Override
        public void stop() {
            bitmap.clear();
        }

        @Override
        public Map<String, Long> stats() {
            return Map.of();
        }
    }
}
