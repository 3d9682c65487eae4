// Linux only: the live API tests host overlayd (a Linux-only assembly) with its fake platform.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
