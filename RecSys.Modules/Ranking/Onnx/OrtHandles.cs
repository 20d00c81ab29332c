using System.Runtime.InteropServices;

namespace RecSys.Ranking.Onnx;

/// <summary>An ORT object released through its <c>Release*</c> function of the API table.</summary>
internal abstract unsafe class OrtHandle : SafeHandle
{
    private readonly delegate* unmanaged<nint, void> _release;

    protected OrtHandle(nint handle, delegate* unmanaged<nint, void> release) : base(0, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        return true;
    }
}

internal sealed unsafe class OrtEnvHandle(nint handle, OrtApi api) : OrtHandle(handle, api.ReleaseEnv);

internal sealed unsafe class OrtSessionOptionsHandle(nint handle, OrtApi api) : OrtHandle(handle, api.ReleaseSessionOptions);

internal sealed unsafe class OrtSessionHandle(nint handle, OrtApi api) : OrtHandle(handle, api.ReleaseSession);

internal sealed unsafe class OrtMemoryInfoHandle(nint handle, OrtApi api) : OrtHandle(handle, api.ReleaseMemoryInfo);

internal sealed unsafe class OrtValueHandle(nint handle, OrtApi api) : OrtHandle(handle, api.ReleaseValue);
