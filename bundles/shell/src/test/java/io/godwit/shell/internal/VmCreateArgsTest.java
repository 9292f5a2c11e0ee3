package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;

class VmCreateArgsTest {

    private static String error(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> VmCreateArgs.parse(args)).getMessage();
    }

    @Test
    void optionsAreTakenOutInAnyOrder() {
        VmCreateArgs a = VmCreateArgs.parse("--memory", "2G", "g", "-w", "sweep:64M", "--smp", "2");
        assertEquals("g", a.name());
        assertEquals("2G", a.get(VmCreateArgs.Option.MEMORY, "128M"));
        assertEquals("2", a.get(VmCreateArgs.Option.VCPUS, "1"));
        assertEquals("sweep:64M", a.get(VmCreateArgs.Option.WORKLOAD, "idle"));
        assertEquals("synthetic", a.get(VmCreateArgs.Option.CPU, "synthetic"));
        assertFalse(a.has(VmCreateArgs.Option.CPU));
    }

    @Test
    void everyDeviceIsTakenOutOfThePositionals() {
        VmCreateArgs a = VmCreateArgs.parse("g", "--device", "virtio-net,rx-rate=5", "--device", "virtio-blk,image=/d",
                "--device-map", "blk0=/e");
        assertEquals(List.of("virtio-net,rx-rate=5", "virtio-blk,image=/d"), a.devices());
        assertEquals(Map.of("blk0", "/e"), a.maps());
        assertEquals("g", a.name());
    }

    @Test
    void aDeviceWithoutItsSpecIsRefused() {
        assertEquals("vm_create --device needs TYPE[,key=value]..., e.g. vm_create a --device virtio-net,rx-rate=1000",
                error("g", "--device"));
        assertEquals("vm_create --device needs TYPE[,key=value]..., e.g. vm_create a --device virtio-net,rx-rate=1000",
                error("g", "--device", "--paused"));
        assertEquals("bad --device-map 'blk0': use ID=VALUE or ID.OPTION=VALUE without commas, e.g. --device-map"
                + " blk0=/var/lib/godwit/disk.img", error("g", "--device-map", "blk0"));
    }

    /** What Gogo refused with "Cannot coerce vm_create(Token, Token) to any of [...]" while the options were its. */
    @Test
    void aMissingValueSaysWhichOptionNeedsWhat() {
        assertEquals("vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G", error("t", "--memory"));
        assertEquals("vm_create --vcpus needs a number of vCPUs, e.g. vm_create a --vcpus 2", error("t", "--vcpus"));
        assertEquals("vm_create -m needs a SIZE, e.g. vm_create a --memory 2G", error("t", "-m", "--vcpus", "2"));
        assertEquals("vm_create --incoming needs defer or a URI, e.g. vm_create a --incoming tcp:127.0.0.1:4444",
                error("--incoming", "--memory", "1G", "t"));
    }

    @Test
    void anOptionGivenTwiceOrUnknownIsRefused() {
        assertEquals("vm_create --memory given twice: 1G, 2G (see help vm_create)",
                error("t", "--memory", "1G", "-m", "2G"));
        assertEquals("unknown option '--memroy' for vm_create (see help vm_create)", error("t", "--memroy", "1G"));
        assertEquals("too many arguments for vm_create: t 1G (give one VM name)", error("t", "1G"));
        assertEquals("vm_create needs a NAME for the VM", error("--memory", "1G"));
    }

    /** A negative number is a value, refused with its range by vm_create, not taken for an option. */
    @Test
    void aNegativeNumberIsAValue() {
        assertEquals("-1", VmCreateArgs.parse("t", "--vcpus", "-1").get(VmCreateArgs.Option.VCPUS, "1"));
    }

    /** help vm_create shows the descriptor of its String... parameter: every option, one a line. */
    @Test
    void theHelpListsEveryOptionWithItsDescription() throws Exception {
        Method create = Arrays.stream(VmCommands.class.getMethods()).filter(m -> m.getName().equals("vm_create"))
                .findFirst().orElseThrow();
        Parameter args = create.getParameters()[create.getParameterCount() - 1];
        assertTrue(args.isVarArgs(), args.toString());
        assertEquals(VmCreateArgs.HELP, args.getAnnotation(Descriptor.class).value());
        for (VmCreateArgs.Option o : VmCreateArgs.Option.values()) {
            assertTrue(VmCreateArgs.HELP.contains(o.helpLine()), o + " is not in the help as " + o.helpLine());
        }
        assertEquals(VmCreateArgs.Option.values().length, VmCreateArgs.HELP.split("\n      ").length - 1,
                "one line for each option");
    }
}
