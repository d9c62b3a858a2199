/** The two versions the address asks to compare, or the latest and the one before it. */
export function comparedVersions(search: URLSearchParams, latest: number): { readonly from: number; readonly to: number } | null {
  if (latest < 2) return null;
  const read = (name: string) => {
    const value = Number(search.get(name));
    return Number.isInteger(value) && value >= 1 && value <= latest ? value : null;
  };
  return { from: read('from') ?? latest - 1, to: read('to') ?? latest };
}
