import type { DoctorArgs } from '../commands/doctor.js';
import { defineCommand } from './define-command.js';
import { exportFlagOptions } from './export-flags.js';
import { FLEET_OPTIONS, JSON_OPTION } from './shared-options.js';

export const doctorDefinition = defineCommand({
  command: 'doctor',
  describe:
    'Check what an export needs (token, account, permission, folders, lock, token expiry) and say what to fix',
  builder: (y) =>
    y
      .options(exportFlagOptions('doctor'))
      .options({ config: { type: 'string', describe: 'JSON config file, as for export' } })
      .options(FLEET_OPTIONS)
      .options(JSON_OPTION)
      .epilogue(
        "doctor also accepts export's other options (so a cron line can be checked as it is) and ignores them.",
      )
      .example('$0 doctor --token-file ~/.ig-token', 'before setting up cron'),
  handler: async (args) => {
    const { doctorCommand } = await import('../commands/doctor.js');
    return doctorCommand(args as unknown as DoctorArgs);
  },
});
