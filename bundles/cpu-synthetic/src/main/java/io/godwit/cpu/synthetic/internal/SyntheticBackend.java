package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.GuestConfig;
import io.godwit.api.memory.RamBlock;
import org.osgi.service.component.annotations.Component;

/**
 * The synthetic CPU: workloads that write memory in patterns an oracle can check, at the speed of the
 * CPU path. It is what QEMU's migration tests use a tiny boot block for.
 */
@Component(property = CpuBackend.NAME + "=" + SyntheticBackend.NAME)
public class SyntheticBackend implements CpuBackend {

    static final String NAME = "synthetic";

    @Override
    public Guest createGuest(GuestConfig config) {
        WorkloadSpec spec = WorkloadSpec.parse(config.workload());
        return switch (spec.name()) {
            case "idle" -> {
                spec.allowOnly();
                yield new IdleGuest(config.memory().size());
            }
            case "fill" -> {
                spec.allowOnly("random");
                FillPattern pattern = spec.options().containsKey("random")
                        ? FillPattern.randomPercent(spec.number("random", 100)) : FillPattern.RANDOM;
                yield new FillGuest(new WorkloadRange("fill", 0, config.vcpus(), config.memory()), pattern);
            }
            case "sweep" -> {
                spec.allowOnly("range", "rate");
                long range = spec.size("range", 0); // none given: the RAM the devices leave free
                if (spec.options().containsKey("range")
                        && (range > config.memory().size() || range < RamBlock.PAGE_SIZE)) {
                    throw new IllegalArgumentException("sweep range " + spec.options().get("range")
                            + " does not fit in the VM's " + config.memory().size() + " bytes of RAM");
                }
                long rate = spec.number("rate", 0);
                yield new SweepGuest(
                        new WorkloadRange("sweep", range / RamBlock.PAGE_SIZE, config.vcpus(), config.memory()), rate);
            }
            default -> throw new IllegalArgumentException(
                    "unknown workload '" + spec.name() + "' (synthetic workloads: " + WorkloadSpec.USAGE + ")");
        };
    }

    @Override
    public String describeWorkloads() {
        return WorkloadSpec.USAGE;
    }
}
