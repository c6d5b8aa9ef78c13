// Platforms as the OCI image index describes them, and matching as containerd does:
// os and architecture must be equal; a variant in the request must match when the image has one,
// and arm64's default variant is v8.

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os || 'unknown', p.architecture || 'unknown', p.variant].filter(Boolean).join('/');
}

export function parsePlatform(text: string): Platform | undefined {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform({ os: os.toLowerCase(), architecture: architecture.toLowerCase(), variant: variant?.toLowerCase() });
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant || undefined;
  if (architecture === 'arm64' && variant === '8') variant = 'v8';
  if (architecture === 'arm' && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  return { ...p, architecture, variant };
}

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const archMap: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  const p = archMap[process.arch] ?? { os: 'linux', architecture: process.arch };
  // Images are Linux images whatever the host: a macOS or Windows user analyses linux images.
  return { ...p };
}

/** Does the image's platform satisfy the requested one? */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (!w.variant) return true;
  const hv = h.variant ?? (h.architecture === 'arm64' ? 'v8' : undefined);
  return hv === w.variant;
}
