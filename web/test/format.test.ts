import { describe, expect, it } from 'vitest';
import { exactUnits, formatEth, formatUnits, toBigInt, unitsToNumber } from '../src/lib/format';

describe('formatUnits (BigInt)', () => {
  it('applies 18 decimals to amounts far beyond 2**53 exactly', () => {
    // 123456789.123456789012345678 WETH: 27 digits, not representable as a double
    expect(formatUnits('123456789123456789012345678', 18)).toBe('123,456,789.123457');
    expect(formatUnits('123456789123456789012345678', 18, 18)).toBe('123,456,789.123456789012345678');
    expect(exactUnits('123456789123456789012345678', 18)).toBe('123456789.123456789012345678');
  });

  it('keeps wei-level precision where Number would lose it', () => {
    const raw = '9007199254740993'; // 2**53 + 1
    expect(Number(raw).toString()).not.toBe(raw); // the float cannot hold it
    expect(exactUnits(raw, 18)).toBe('0.009007199254740993');
    expect(formatUnits(raw, 0)).toBe('9,007,199,254,740,993');
  });

  it('rounds half away from zero, drops trailing zeros, handles negatives', () => {
    expect(formatUnits('1500000000000000000', 18)).toBe('1.5');
    expect(formatUnits('1000000000000000000', 18)).toBe('1');
    expect(formatUnits('1234565', 6, 5)).toBe('1.23457');
    expect(formatUnits('1234564', 6, 5)).toBe('1.23456');
    expect(formatUnits('-2500000', 6)).toBe('-2.5');
    expect(formatUnits('-1234565', 6, 5)).toBe('-1.23457');
    expect(formatUnits('0', 18)).toBe('0');
  });

  it('shows a tiny non-zero amount as below the shown precision, never as 0', () => {
    expect(formatUnits('1', 18)).toBe('<0.000001');
    expect(formatUnits('-1', 18)).toBe('-<0.000001');
    expect(formatUnits('499999999999', 18)).toBe('<0.000001');
    expect(formatUnits('500000000000', 18)).toBe('0.000001');
  });

  it('uses the token decimals (USDC 6, WBTC 8)', () => {
    expect(formatUnits('2500000000', 6)).toBe('2,500');
    expect(formatUnits('12345678', 8)).toBe('0.123457');
  });

  it('passes through what is not an integer', () => {
    expect(formatUnits('abc', 18)).toBe('abc');
    expect(formatUnits(null, 18)).toBe('—');
    expect(toBigInt('1.5')).toBeNull();
    expect(toBigInt('0x10')).toBe(16n);
  });

  it('formats wei as ETH', () => {
    expect(formatEth('174327342556584')).toBe('0.000174 ETH');
    expect(formatEth('174327342556584', 9)).toBe('0.000174327 ETH');
  });

  it('converts units to a float for charts without overflowing on the way', () => {
    expect(unitsToNumber('1775479000000000000', 18)).toBeCloseTo(1.775479, 9);
    expect(unitsToNumber('-250000', 6)).toBe(-0.25);
    expect(unitsToNumber(10n ** 40n, 18)).toBeCloseTo(1e22, -8);
  });
});
