/** Money is integer micro-GBP everywhere; these are the only conversions to and from what people read and type. */

export const MICROS_PER_POUND = 1_000_000;

const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** £12.34 (to the nearest penny). A non-zero amount under half a penny reads "under £0.01", never "£0.00". */
export function formatGbp(micros: number): string {
  if (micros > 0 && micros < 5_000) return "under £0.01";
  return pounds.format(micros / MICROS_PER_POUND);
}

/** The exact amount in pounds with six decimals, for exports: 0.000288. */
export function exactGbp(micros: number): string {
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / MICROS_PER_POUND)}.${String(abs % MICROS_PER_POUND).padStart(6, "0")}`;
}

/** What a person types as an amount of pounds ("12", "12.5", "£1,234.56") in micro-GBP, or null if it is not one. */
export function parseGbp(input: string): number | null {
  const text = input.trim().replace(/^£\s*/, "").replace(/,(?=\d{3}(\D|$))/g, "");
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * MICROS_PER_POUND + Number((match[2] ?? "").padEnd(2, "0")) * 10_000;
}
