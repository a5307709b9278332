#include "QemuCommand.h"

#include "GuestProtocol.h"

namespace magpie {

QString QemuCommand::optValue(const QString &v)
{
    QString out = v;
    out.replace(QLatin1Char(','), QStringLiteral(",,"));
    return out;
}

QString QemuCommand::shellQuoted(const QString &v)
{
    QString out = v;
    out.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + out + QLatin1Char('\'');
}

QString QemuCommand::machineType()
{
    // q35, not pc: pc's ACPI tables compute the PCI interrupt routing (_PRT) in a 128-step AML
    // loop that the guest kernel runs again for every PCI device it enables, ~100 ms each under
    // TCG (four virtio devices: ~0.4 s of every cold boot); q35's routing table is a static
    // package. Its kernel also reaches /init ~0.3 s sooner with our devices.
    return QStringLiteral("q35");
}

QString QemuCommand::kernelArguments(Accelerator accel)
{
    // Not acpi=noirq (it would spare ~100 ms of ACPI PCI link methods per virtio device under
    // TCG): this kernel has no MP-table support, so without ACPI interrupts it runs in PIC mode
    // with one CPU, whatever -smp says.
    QString args = QStringLiteral("console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off tsc=reliable no_timer_check "
                                  "i8042.noaux i8042.nomux i8042.nopnp i8042.nokbd cryptomgr.notests random.trust_cpu=on");
    // Under TCG, no address-space randomization in the guest: QEMU 7.2 reuses the code it
    // translated only at the same virtual address, so with it every new process translated its
    // libraries afresh (measured: a script running 40 programs, 1.7 s -> 0.62 s). The VM is
    // the sandbox; with KVM (no translation) the guest keeps it.
    if (accel == Accelerator::Tcg)
        args += QStringLiteral(" norandmaps");
    return args;
}

QStringList QemuCommand::arguments() const
{
    QStringList a;
    a << QStringLiteral("-name") << QStringLiteral("magpie-%1").arg(name)
      << QStringLiteral("-nodefaults") << QStringLiteral("-no-user-config")
      << QStringLiteral("-display") << QStringLiteral("none")
      << QStringLiteral("-no-reboot")
      << QStringLiteral("-M") << (ramFile.isEmpty() ? machineType() : machineType() + QStringLiteral(",memory-backend=ram0"));
    if (!ramFile.isEmpty())
        a << QStringLiteral("-object")
          << QStringLiteral("memory-backend-file,id=ram0,size=%1M,mem-path=%2,share=%3")
                 .arg(memoryMb).arg(optValue(ramFile), ramShared ? QStringLiteral("on") : QStringLiteral("off"));
    if (accel == Accelerator::Kvm)
        a << QStringLiteral("-accel") << QStringLiteral("kvm") << QStringLiteral("-cpu") << QStringLiteral("host");
    else
        a << QStringLiteral("-accel") << QStringLiteral("tcg,thread=multi") << QStringLiteral("-cpu") << QStringLiteral("max");
    a << QStringLiteral("-smp") << QString::number(vcpus)
      << QStringLiteral("-m") << QString::number(memoryMb);
    if (incomingDeferred)
        // A restored VM has booted already: QEMU need not read the kernel and initramfs (~12 ms
        // of its start). The option ROM that -kernel adds stays, for the same set of RAM blocks.
        a << QStringLiteral("-option-rom") << QStringLiteral("linuxboot_dma.bin");
    else
        a << QStringLiteral("-kernel") << image.kernel << QStringLiteral("-initrd") << image.initrd
          << QStringLiteral("-append") << kernelArguments(accel);
    a << QStringLiteral("-chardev") << QStringLiteral("socket,id=con,path=%1").arg(optValue(consoleSocket))
      << QStringLiteral("-serial") << QStringLiteral("chardev:con")
      // werror/rerror=report: an I/O error (e.g. the host's disk is full) reaches the guest as EIO
      // and QEMU as a BLOCK_IO_ERROR event, instead of pausing the VM silently.
      << QStringLiteral("-drive")
      << QStringLiteral("if=none,id=root,file=%1,format=qcow2,cache=unsafe,werror=report,rerror=report").arg(optValue(rootOverlay))
      << QStringLiteral("-device") << QStringLiteral("virtio-blk-pci,id=rootdev,drive=root,serial=%1").arg(QLatin1String(guest::kRootSerial))
      ;
    // A VM that boots for one job and is never saved leaves out what its job does not use:
    // every PCI device costs the guest's boot its probe (and QEMU's firmware its set-up).
    const bool lean = oneJobOnly && ramFile.isEmpty() && !incomingDeferred;
    if (!(lean && workspaceFile.isEmpty()))
        a << QStringLiteral("-drive")
          << QStringLiteral("if=none,id=ws,file=%1,format=%2,cache=writeback,discard=unmap,detect-zeroes=unmap,werror=report,rerror=report")
                 .arg(optValue(workspaceFile), workspaceIsQcow2 ? QStringLiteral("qcow2") : QStringLiteral("raw"))
          << QStringLiteral("-device") << QStringLiteral("virtio-blk-pci,id=wsdev,drive=ws,serial=%1").arg(QLatin1String(guest::kWorkspaceSerial));
    a << QStringLiteral("-device") << QStringLiteral("virtio-serial-pci,id=vser")
      << QStringLiteral("-chardev") << QStringLiteral("socket,id=ctl,path=%1").arg(optValue(controlSocket))
      << QStringLiteral("-device") << QStringLiteral("virtserialport,chardev=ctl,name=%1").arg(QLatin1String(guest::kPortName));
    if (!(lean && !network))
        // romfile= : no network-boot ROM for the firmware to load and run.
        a << QStringLiteral("-netdev") << (network ? QStringLiteral("user,id=n0") : QStringLiteral("hubport,id=n0,hubid=0"))
          << QStringLiteral("-device") << QStringLiteral("virtio-net-pci,netdev=n0,id=nic0,romfile=");
    a << QStringLiteral("-chardev") << QStringLiteral("socket,id=qmp,path=%1").arg(optValue(qmpSocket))
      << QStringLiteral("-mon") << QStringLiteral("chardev=qmp,mode=control")
      << QStringLiteral("-pidfile") << pidFile;
    if (incomingDeferred)
        a << QStringLiteral("-incoming") << QStringLiteral("defer");
    return a;
}

} // namespace magpie
