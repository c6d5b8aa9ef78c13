// Open `FILE[:REF]` and choose one image from it: what every single-image command starts with.
import { LayerlensError } from '../image/errors.js';
import type { Image, ImageFile } from '../image/model.js';
import { parsePlatform, type Platform } from '../image/platform.js';
import { openImageFile, type OpenOptions } from './open.js';
import { selectImage, splitPathRef } from './select.js';

export interface OpenImageOptions extends OpenOptions {
  /** REF: tag, OCI ref name, digest or digest prefix (the same as `FILE:REF`). */
  image?: string;
  /** `os/arch[/variant]`, or a Platform. */
  platform?: string | Platform;
}

export interface OpenedImage {
  file: ImageFile;
  image: Image;
  /** Set when layerlens made a choice for the caller (the host's platform from an index). */
  note?: string;
}

export async function openImage(target: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  const { path, ref } = splitPathRef(target);
  if (ref && options.image && ref !== options.image) {
    throw new LayerlensError('usage', `two different images asked for: ${JSON.stringify(ref)} and --image ${JSON.stringify(options.image)}`);
  }
  let platform: Platform | undefined;
  if (typeof options.platform === 'string') {
    platform = parsePlatform(options.platform);
    if (!platform) throw new LayerlensError('usage', `--platform ${JSON.stringify(options.platform)} is not os/arch[/variant]`);
  } else {
    platform = options.platform;
  }
  const file = await openImageFile(path, options);
  try {
    const selection = selectImage(file, { ref: options.image ?? ref, platform });
    return { file, image: selection.image, note: selection.note };
  } catch (e) {
    await file.close();
    throw e;
  }
}
