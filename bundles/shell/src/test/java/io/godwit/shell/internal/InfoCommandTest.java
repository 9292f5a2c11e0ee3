package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InfoCommandTest {

    private final FakeVmManager vms = new FakeVmManager();
    private final InfoCommand info = new InfoCommand();

    @BeforeEach
    void bindSubjects() {
        info.addSubject(new StatusInfo(vms));
        info.addSubject(new VmsInfo(vms));
        info.addSubject(new CpusInfo(vms));
        info.addSubject(new RegistersInfo(vms));
    }

    private String error(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> info.info(args)).getMessage();
    }

    @Test
    void dispatchesToTheSubject() throws Exception {
        vms.add("a");
        assertEquals("VM status: running", info.info("status"));
        assertEquals("VM status: running", info.info("status", "a"));
    }

    @Test
    void dirtyShowsTheVmsTrackerAndTheInstalledOnes() throws Exception {
        info.addSubject(new DirtyInfo(vms));
        info.addSubject(new DirtyTrackersInfo(vms));
        vms.add("a");
        assertEquals("""
                tracker: pml
                logging: off
                sources: dma
                COUNTER     VALUE
                sync-count      0""", info.info("dirty", "a"));
        assertEquals("""
                NAME    DEFAULT  DESCRIPTION
                bitmap           KVM's dirty bitmap
                pml     *        Intel PML""", info.info("dirty-trackers"));
        assertEquals("info dirty-trackers takes no arguments", error("dirty-trackers", "a"));
    }

    @Test
    void anUnknownSubjectListsTheKnownOnes() {
        assertEquals("unknown info subject 'migrate': known are cpus, registers, status, vms", error("migrate"));
    }

    @Test
    void aSubjectAddedLaterIsKnownAndGoneWhenRemoved() throws Exception {
        InfoSubject migrate = new InfoSubject() {
            @Override
            public String name() {
                return "migrate";
            }

            @Override
            public String description() {
                return "info migrate [NAME]: the migration's state and counters";
            }

            @Override
            public Object show(String... args) {
                return "Migration status: none";
            }
        };
        info.addSubject(migrate);
        assertEquals("Migration status: none", info.info("migrate"));
        info.removeSubject(migrate);
        assertEquals("unknown info subject 'migrate': known are cpus, registers, status, vms", error("migrate"));
    }

    @Test
    void infoAloneListsTheSubjects() throws Exception {
        assertEquals(String.join("\n",
                        "SUBJECT    SHOWS",
                        "cpus       info cpus [NAME]: each vCPU's thread, state, progress and rate",
                        "registers  info registers [NAME] [--vcpu N]: each vCPU's registers, or vCPU N's",
                        "status     info status [NAME]: the VM's run state and why (QEMU's info status)",
                        "vms        info vms: every VM with its state, UUID, QMP addresses and guest"),
                info.info());
    }

    @Test
    void subjectsResolveTheVmLikeEveryCommand() {
        assertEquals("no VM on this host: create one with vm_create", error("cpus"));
        vms.add("a");
        vms.add("b");
        assertEquals("2 VMs on this host (a, b): name one, e.g. info status a", error("status"));
        assertEquals("unknown option '-v' for info cpus (see help info cpus)", error("cpus", "-v"));
        assertEquals("info vms takes no arguments, got: a", error("vms", "a"));
    }

    @Test
    void statusFollowsQemuAndAddsTheDetail() {
        assertEquals("VM status: running", StatusInfo.line(RunState.RUNNING, ""));
        assertEquals("VM status: paused", StatusInfo.line(RunState.PAUSED, null));
        assertEquals("VM status: paused (prelaunch)", StatusInfo.line(RunState.PRELAUNCH, ""));
        assertEquals("VM status: paused (postmigrate)", StatusInfo.line(RunState.POSTMIGRATE, ""));
        assertEquals("VM status: paused (guest-error): illegal instruction at pc 0x80000010",
                StatusInfo.line(RunState.GUEST_ERROR, "illegal instruction at pc 0x80000010"));
    }

    @Test
    void cpusIsATableWithNumbersRightAligned() throws Exception {
        FakeVm a = vms.add("a");
        a.cpus.add(new VcpuInfo(10, "vcpu-a-10", 4711, "halted", 123456789, "writes", 2500000.4));
        assertEquals(String.join("\n",
                        "CPU  THREAD      TID  STATE     PROGRESS   RATE/S  UNIT",
                        "  0  vcpu-a-0    100  running       1000     12.5  writes",
                        " 10  vcpu-a-10  4711  halted   123456789  2500000  writes"),
                info.info("cpus"));
    }

    @Test
    void registersShowsEveryVcpu() throws Exception {
        vms.create(io.godwit.api.vm.VmSpec.builder("a").vcpus(2).build());
        assertEquals("CPU#0\npc=0x1000\nx1=0x0\n\nCPU#1\npc=0x2000\nx1=0x0", info.info("registers"));
    }

    @Test
    void vmsShowsEveryVm() throws Exception {
        assertEquals("no VMs", info.info("vms"));
        FakeVm a = vms.add("a");
        assertEquals("NAME  STATE    UUID                                  QMP  GUEST\n"
                        + "a     running  " + a.uuid() + "  -    synthetic idle",
                info.info("vms"));
    }

    /** A guest (or the host it came from) writes terminal sequences to its UART: shown, not obeyed. */
    @Test
    void consoleShowsTheGuestsEscapesAndBidiCharactersEscapedAndKeepsItsLines() throws Exception {
        info.addSubject(new ConsoleInfo(vms));
        vms.add("g");
        assertEquals("(no console output)", info.info("console", "g"));
        ((FakeVm) vms.get("g").orElseThrow()).console = "hash: 0fdb\r\nok \u001b[2J\u001b]0;owned\u0007\n"
                + "\u202eevil\u200b\r\n";
        assertEquals("hash: 0fdb\nok \\x1b[2J\\x1b]0;owned\\x07\n\\u202eevil\\u200b", info.info("console", "g"));
    }
}
