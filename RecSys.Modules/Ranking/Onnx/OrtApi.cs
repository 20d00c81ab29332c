using System.Runtime.InteropServices;

namespace RecSys.Ranking.Onnx;

/// <summary>ONNXTensorElementDataType of the C API (the ONNX TensorProto data types).</summary>
internal enum OrtElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
}

/// <summary>
/// The slice of the versioned <c>OrtApi</c> function table that we call. The table is an array of function pointers whose
/// order is fixed by <c>onnxruntime_c_api.h</c> and only ever appended to, so the slots below (all present since API
/// version 13) hold in the 1.30 library too. Each slot number was counted from the header and each bound function is
/// exercised by the tests in <c>RecSys.Tests/Ranking/OrtBindingTests.cs</c>.
/// </summary>
internal sealed unsafe class OrtApi
{
    /// <summary>The API version we ask for: the oldest that has every slot below.</summary>
    public const uint ApiVersion = 13;

    public readonly delegate* unmanaged<int, byte*, nint> CreateStatus;                       // 0
    public readonly delegate* unmanaged<nint, int> GetErrorCode;                              // 1
    public readonly delegate* unmanaged<nint, byte*> GetErrorMessage;                         // 2
    public readonly delegate* unmanaged<int, byte*, nint*, nint> CreateEnv;                   // 3
    public readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession;        // 7
    public readonly delegate* unmanaged<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray; // 8
    public readonly delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> Run; // 9
    public readonly delegate* unmanaged<nint*, nint> CreateSessionOptions;                    // 10
    public readonly delegate* unmanaged<nint, int, nint> SetSessionExecutionMode;             // 13
    public readonly delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel;    // 23
    public readonly delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads;                // 24
    public readonly delegate* unmanaged<nint, int, nint> SetInterOpNumThreads;                // 25
    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount;             // 30
    public readonly delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount;            // 31
    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo;    // 33
    public readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;   // 34
    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName; // 36
    public readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName; // 37
    public readonly delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue; // 49
    public readonly delegate* unmanaged<nint, int*, nint> IsTensor;                           // 50
    public readonly delegate* unmanaged<nint, void**, nint> GetTensorMutableData;             // 51
    public readonly delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;          // 55
    public readonly delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo;            // 56
    public readonly delegate* unmanaged<nint, int*, nint> GetTensorElementType;               // 60
    public readonly delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;               // 61
    public readonly delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;              // 62
    public readonly delegate* unmanaged<nint, nuint*, nint> GetTensorShapeElementCount;       // 64
    public readonly delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;             // 65
    public readonly delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;           // 69
    public readonly delegate* unmanaged<nint, void*, nint> AllocatorFree;                     // 76
    public readonly delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;          // 78
    public readonly delegate* unmanaged<nint, void> ReleaseEnv;                               // 92
    public readonly delegate* unmanaged<nint, void> ReleaseStatus;                            // 93
    public readonly delegate* unmanaged<nint, void> ReleaseMemoryInfo;                        // 94
    public readonly delegate* unmanaged<nint, void> ReleaseSession;                           // 95
    public readonly delegate* unmanaged<nint, void> ReleaseValue;                             // 96
    public readonly delegate* unmanaged<nint, void> ReleaseTypeInfo;                          // 98
    public readonly delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo;            // 99
    public readonly delegate* unmanaged<nint, void> ReleaseSessionOptions;                    // 100
    public readonly delegate* unmanaged<byte***, int*, nint> GetAvailableProviders;           // 125
    public readonly delegate* unmanaged<byte**, int, nint> ReleaseAvailableProviders;         // 126

    /// <summary>The legacy exported entry point <c>OrtSessionOptionsAppendExecutionProvider_CUDA(options, device_id)</c>, when the library has it.</summary>
    public readonly delegate* unmanaged<nint, int, nint> AppendCudaProvider;

    public OrtApi(nint table, nint cudaEntryPoint)
    {
        var f = (nint*)table;
        CreateStatus = (delegate* unmanaged<int, byte*, nint>)f[0];
        GetErrorCode = (delegate* unmanaged<nint, int>)f[1];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)f[2];
        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)f[3];
        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)f[7];
        CreateSessionFromArray = (delegate* unmanaged<nint, void*, nuint, nint, nint*, nint>)f[8];
        Run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)f[9];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)f[10];
        SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)f[13];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)f[23];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)f[24];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)f[25];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)f[30];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)f[31];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)f[33];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)f[34];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)f[36];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)f[37];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)f[49];
        IsTensor = (delegate* unmanaged<nint, int*, nint>)f[50];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)f[51];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)f[55];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)f[56];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)f[60];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)f[61];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)f[62];
        GetTensorShapeElementCount = (delegate* unmanaged<nint, nuint*, nint>)f[64];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)f[65];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)f[69];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)f[76];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)f[78];
        ReleaseEnv = (delegate* unmanaged<nint, void>)f[92];
        ReleaseStatus = (delegate* unmanaged<nint, void>)f[93];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)f[94];
        ReleaseSession = (delegate* unmanaged<nint, void>)f[95];
        ReleaseValue = (delegate* unmanaged<nint, void>)f[96];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)f[98];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)f[99];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)f[100];
        GetAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)f[125];
        ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)f[126];
        AppendCudaProvider = (delegate* unmanaged<nint, int, nint>)cudaEntryPoint;
    }

    /// <summary>Throws <see cref="OnnxRuntimeException"/> with ORT's code and message when <paramref name="status"/> is an error, releasing it.</summary>
    public void Check(nint status, string what)
    {
        if (status == 0) return;
        var code = GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "(no message)";
        ReleaseStatus(status);
        throw new OnnxRuntimeException((OrtErrorCode)code, $"{what}: {message}");
    }

    /// <summary>A new <c>OrtStatus</c> (tests use it to check the error path end to end).</summary>
    public nint MakeStatus(OrtErrorCode code, string message)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(message + "\0");
        fixed (byte* p = bytes) return CreateStatus((int)code, p);
    }

    /// <summary>Reads and frees a string that ORT allocated with the default allocator.</summary>
    public string TakeString(nint allocator, byte* value)
    {
        var s = Marshal.PtrToStringUTF8((nint)value) ?? "";
        Check(AllocatorFree(allocator, value), "AllocatorFree");
        return s;
    }
}
