package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The argument syntax of {@code xp /FMT ADDR} and {@code info registers --vcpu N}. */
class XpAndRegistersTest {

    @Test
    void formatsFollowQemu() {
        assertEquals(new XpCommand.Format(1, 'x', 4), XpCommand.Format.parse("/x"));
        assertEquals(new XpCommand.Format(4, 'x', 8), XpCommand.Format.parse("/4xg"));
        assertEquals(new XpCommand.Format(16, 'c', 1), XpCommand.Format.parse("/16c"));
        assertEquals(new XpCommand.Format(2, 'd', 2), XpCommand.Format.parse("/2dh"));
        assertEquals(new XpCommand.Format(3, 'u', 1), XpCommand.Format.parse("/3ub"));
        assertThrows(IllegalArgumentException.class, () -> XpCommand.Format.parse("4xg"));
        assertThrows(IllegalArgumentException.class, () -> XpCommand.Format.parse("/4q"));
        assertThrows(IllegalArgumentException.class, () -> XpCommand.Format.parse("/0x"));
        assertEquals(0x1000, XpCommand.parseAddress("0x1000"));
        assertEquals(4096, XpCommand.parseAddress("4096"));
        assertThrows(IllegalArgumentException.class, () -> XpCommand.parseAddress("zz"));
    }

    @Test
    void vcpuOptionIsTakenOutOfTheArguments() {
        List<String> args = new ArrayList<>(List.of("a", "--vcpu", "1"));
        assertEquals(1, RegistersInfo.vcpuOption(args));
        assertEquals(List.of("a"), args);
        assertEquals(-1, RegistersInfo.vcpuOption(new ArrayList<>(List.of("a"))));
        assertThrows(IllegalArgumentException.class, () -> RegistersInfo.vcpuOption(new ArrayList<>(List.of("--vcpu"))));
        assertThrows(IllegalArgumentException.class,
                () -> RegistersInfo.vcpuOption(new ArrayList<>(List.of("--vcpu", "-1"))));
    }

    @Test
    void registersOfOneVcpu() throws Exception {
        FakeVmManager vms = new FakeVmManager();
        vms.add("a");
        RegistersInfo info = new RegistersInfo(vms);
        String all = (String) info.show();
        String one = (String) info.show("--vcpu", "0");
        assertEquals(true, all.startsWith(one), all + "\n---\n" + one);
        assertThrows(IllegalArgumentException.class, () -> info.show("a", "--vcpu", "9"));
    }

    @Test
    void registersOfOneVcpuOfTwo() {
        FakeVmManager vms = new FakeVmManager();
        vms.create(io.godwit.api.vm.VmSpec.builder("a").vcpus(2).build());
        RegistersInfo info = new RegistersInfo(vms);
        String all = (String) info.show("a");
        String first = (String) info.show("a", "--vcpu", "0");
        String second = (String) info.show("--vcpu", "1", "a");
        assertEquals("CPU#0\npc=0x1000\nx1=0x0", first);
        assertEquals("CPU#1\npc=0x2000\nx1=0x0", second, "only vCPU 1, whichever place the option takes");
        assertEquals(first + "\n\n" + second, all);
        var e = assertThrows(IllegalArgumentException.class, () -> info.show("a", "--vcpu", "2"));
        assertEquals("VM a has no vCPU 2 (it has 2)", e.getMessage());
    }

    @Test
    void aCountTooBigForAnIntIsAUsageError() {
        for (String fmt : new String[] {"/99999999999x", "/2147483648g", "/99999999999999999999999999c"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> XpCommand.Format.parse(fmt));
            assertEquals(true, e.getMessage().startsWith("count must be 1 to "), e.getMessage());
            assertEquals(false, e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
