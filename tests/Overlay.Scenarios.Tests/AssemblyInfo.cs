// Linux only: every scenario runs labs of network namespaces, wireguard-go and FRR through Overlay.Lab and the daemon (both Linux-only assemblies).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
