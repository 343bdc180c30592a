export interface RecordingOptions {
  /** String values matching any of these are recorded as "***" (searched anywhere in the string). */
  maskPatterns: RegExp[];
  /** Cap on the size of one recorded event, in UTF-8 bytes of its JSON; `input` is cut to fit. */
  maxEventBytes: number;
}

/** No masks, 8 KiB events. Frozen, masks included: copy it to add patterns (`{ ...DEFAULT_RECORDING_OPTIONS, maskPatterns: [...] }`). */
export const DEFAULT_RECORDING_OPTIONS: Readonly<RecordingOptions> = Object.freeze({
  maskPatterns: Object.freeze([]) as unknown as RegExp[],
  maxEventBytes: 8192,
});
