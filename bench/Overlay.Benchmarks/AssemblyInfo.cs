// Linux only: the benchmarks drive netlink, wireguard-go and FRR labs through Overlay.Lab (a Linux-only assembly).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
