/** Where berth-native (the C part, built by native.mk) is: next to the compiled driver, or in dist/. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BINARY_NAME = 'berth-native';

export function findNativeBinary(option?: string): string | undefined {
  const candidates = [
    ...(option ? [option] : []),
    path.join(__dirname, BINARY_NAME),
    path.resolve(__dirname, '../../dist/drivers/native', BINARY_NAME),
  ];
  return candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
