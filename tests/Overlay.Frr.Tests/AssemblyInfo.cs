// Linux only: the live tests start FRR in network namespaces through Overlay.Lab (a Linux-only assembly); the vty client speaks over Unix sockets.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
