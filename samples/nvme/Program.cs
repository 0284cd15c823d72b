// shadowio-nvme: the ShadowIo NVMe demo. With no arguments it runs the workload in every
// doorbell mode on /dev/kvm and prints a table; see --help for the options and verbs.
using ShadowIo.Samples.Nvme.Commands;

return CommandLineHost.Run(args);
