/** A status or phase as a coloured label: green when serving, amber on the way, red when failed. */
export function Status({ value }: { value: string }) {
  return (
    <span class={`status status-${value}`} data-testid="status">
      {value}
    </span>
  );
}
