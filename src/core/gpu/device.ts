// The one place that talks to navigator.gpu. Everything else receives a GPUDevice.

export interface GpuInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface OwnedGpu {
  device: GPUDevice;
  info: GpuInfo;
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** The GPU object of this context, or of the Node `webgpu` package when it is passed in. */
function gpuOf(gpu?: GPU): GPU | undefined {
  if (gpu) return gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}

/**
 * Requests an adapter and a device that this app owns. ORT is handed this device: a device ORT
 * creates itself is destroyed when its last session is released, which would take our blend
 * buffers with it.
 */
export async function requestGpu(gpu?: GPU, opts: { powerPreference?: GPUPowerPreference } = {}): Promise<OwnedGpu> {
  const g = gpuOf(gpu);
  if (!g)
    throw new GpuUnavailableError(
      'WebGPU is not available in this browser (navigator.gpu is missing; it needs a secure context such as https or localhost).',
    );
  const adapter = await g.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new GpuUnavailableError('WebGPU is present but no GPU adapter was found.');
  const shaderF16 = adapter.features.has('shader-f16');
  const limits = adapter.limits;
  // Ask for the adapter's full buffer limits: CLIP-sized tensors exceed the 128-256 MiB defaults.
  const device = await adapter.requestDevice({
    requiredFeatures: shaderF16 ? ['shader-f16'] : [],
    requiredLimits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const ai = adapter.info;
  return {
    device,
    info: {
      vendor: ai?.vendor ?? '',
      architecture: ai?.architecture ?? '',
      description: ai?.description ?? '',
      isFallbackAdapter: (ai as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false,
      shaderF16,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    },
  };
}
