/** The options of a filter: "Any" (no filter), then each value as it is. */
export function AnyOptions({ values }: { values: readonly string[] }) {
  return (
    <>
      <option value="">Any</option>
      {values.map((v) => (
        <option key={v} value={v}>
          {v}
        </option>
      ))}
    </>
  );
}
