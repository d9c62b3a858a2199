import { csvCell, csvRow } from './csv';

describe('csv', () => {
  it('quotes cells holding a comma, a quote or a line break, doubling quotes', () => {
    expect(csvRow(['plain', 'a,b', 'say "hi"', 'two\nlines', 3, true, null])).toBe('plain,"a,b","say ""hi""","two\nlines",3,true,\r\n');
  });

  it('writes a cell that a spreadsheet would run as a formula as text', () => {
    expect(['=SUM(A1)', '+1', '-2', '@cmd', '\tx'].map(csvCell)).toEqual(["'=SUM(A1)", "'+1", "'-2", "'@cmd", "'\tx"]);
    expect(csvCell(-2)).toBe('-2');
  });
});
