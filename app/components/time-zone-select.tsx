import { useEffect, useRef } from "react";

/**
 * A select of IANA zones. Without JavaScript it shows `defaultValue`; with it, `preferBrowserZone` switches to
 * the browser's own zone when the list has it. `defaultValue` is always an option, even when the runtime's list
 * lacks it (a zone such as Etc/GMT+5 is valid but not listed): a select without the stored value would send
 * another one on the next save.
 */
export function TimeZoneSelect({
  zones,
  defaultValue,
  preferBrowserZone = false,
  error,
}: {
  zones: string[];
  defaultValue: string;
  preferBrowserZone?: boolean;
  error?: string;
}) {
  const select = useRef<HTMLSelectElement>(null);
  const options = zones.includes(defaultValue) ? zones : [defaultValue, ...zones];
  useEffect(() => {
    if (!preferBrowserZone || !select.current) return;
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zones.includes(browserZone)) select.current.value = browserZone;
  }, [preferBrowserZone, zones]);
  return (
    <div className="field">
      <label htmlFor="timezone">Time zone</label>
      <select
        id="timezone"
        name="timezone"
        ref={select}
        defaultValue={defaultValue}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "timezone-error" : undefined}
      >
        {options.map((zone) => (
          <option key={zone} value={zone}>
            {zone.replaceAll("_", " ")}
          </option>
        ))}
      </select>
      {error ? (
        <p className="field__error" id="timezone-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
