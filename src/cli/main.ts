// The `tollgate` command line. Each command loads its own modules when it runs (dynamic imports), so a client
// command such as `status` does not pay for the YAML parser, the analyzers or the data plane.
import { Command, Option } from 'commander';
import { AdminClient, configDir, controllerUrl, DEFAULT_CONTROLLER, tokenSource } from './client.js';
import type { ReportOptions } from './cmd-analyze.js';
import type { ProxyOptions } from './cmd-components.js';
import type { Io } from './io.js';
import { parseTimeout } from './files.js';

const io: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('tollgate')
    .description('Egress control for a service mesh: control plane, sidecars and egress gateways on Istio YAML.')
    .option('--controller <url>', `the controller's admin URL (env TOLLGATE_CONTROLLER, default ${DEFAULT_CONTROLLER})`)
    .option(
      '--config-dir <dir>',
      "the controller's config directory, where the admin token is (env TOLLGATE_CONFIG_DIR, default ./mesh)",
    )
    .option('--token-file <file>', 'the admin token (env TOLLGATE_TOKEN_FILE; default DIR/.tollgate/admin-token)')
    .enablePositionalOptions()
    .showHelpAfterError();
  type GlobalOptions = { controller?: string; configDir?: string; tokenFile?: string };
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): AdminClient =>
    new AdminClient(controllerUrl(globals().controller), tokenSource('admin', globals()));
  const done = (code: number): void => {
    process.exitCode = code;
  };
  const filenameHelp = 'a YAML file, a directory, or - for stdin (repeatable)';
  const recursiveHelp = 'process the directories given with -f recursively';

  program
    .command('up')
    .description('run the controller, the egress gateways and one sidecar per workload, from a config directory')
    .option('--config-dir <dir>', 'the config directory, created if missing (env TOLLGATE_CONFIG_DIR, default ./mesh)')
    .option('--listen <host:port>', "the controller's address (default: the --controller address)")
    .option('--pod-cidr <cidr>', 'loopback range for pod addresses (default: the first free 127.0.N.0/24 from N=100)')
    .option('--dns-server <host:port>', 'resolve external names through this DNS server (repeatable)', collect, [])
    .option('--connect-to <h1:p1:h2:p2>', "dial h2:p2 instead of h1:p1, as curl's option (repeatable)", collect, [])
    .option(
      '--stand-in <host>',
      'serve a local stand-in for this external site and send its traffic there (repeatable)',
      collect,
      [],
    )
    .option('--seed <file>', 'apply this file at start (repeatable)', collect, [])
    .action(async (opts) => {
      const { upCommand } = await import('./cmd-up.js');
      done(
        await upCommand({ ...opts, configDir: configDir(opts.configDir ?? globals().configDir) }, globals().controller),
      );
    });

  program
    .command('controller')
    .description('run the controller alone (the components of `up` as separate processes)')
    .option('--config-dir <dir>', 'the config directory, created if missing (env TOLLGATE_CONFIG_DIR, default ./mesh)')
    .option('--listen <host:port>', "the controller's address", '127.0.0.1:15010')
    .action(async (opts: { configDir?: string; listen: string }) => {
      const { controllerCommand } = await import('./cmd-components.js');
      done(await controllerCommand({ ...opts, configDir: configDir(opts.configDir ?? globals().configDir) }));
    });

  program
    .command('proxy')
    .description('run one sidecar or gateway alone, configured by the controller')
    .argument('<type>', 'sidecar or gateway')
    .requiredOption('--name <name>', 'the workload or gateway name')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .requiredOption('--ip <address>', 'the pod address: listeners bind here, upstream connections come from here')
    .option('--pod <name>', "the pod's name, when the proxy is one replica of several (status and logs go by it)")
    .option('--label <key=value>', 'a pod label (repeatable)', collect, [])
    .option('--service-account <name>', 'the service account')
    .option('--dns-server <host:port>', 'resolve external names through this DNS server (repeatable)', collect, [])
    .option('--connect-to <h1:p1:h2:p2>', "dial h2:p2 instead of h1:p1, as curl's option (repeatable)", collect, [])
    .option(
      '--trusted-ca <file>',
      'trust this PEM CA for upstream TLS too, besides the system trust store (repeatable)',
      collect,
      [],
    )
    .option('--token-file <file>', "the proxy join token (default: the config dir's .tollgate/proxy-token)")
    .option('--drain-timeout <duration>', 'on SIGTERM, how long connections may take to finish', '5s')
    .option('--supervised', 'standard input is a pipe from a supervisor (tollgate up): drain and exit when it closes')
    .option(
      '--concurrency <n>',
      'worker processes serving the listeners, as Envoy worker threads (default: 2 for a gateway, 1 for a sidecar)',
    )
    .action(
      async (
        type: string,
        opts: Omit<ProxyOptions, 'type' | 'token' | 'drainTimeoutMs'> & { tokenFile?: string; drainTimeout: string },
      ) => {
        const { proxyCommand } = await import('./cmd-components.js');
        done(
          await proxyCommand(
            {
              ...opts,
              type,
              drainTimeoutMs: parseTimeout(opts.drainTimeout),
              token: tokenSource('proxy', { tokenFile: opts.tokenFile, configDir: globals().configDir }, {}),
            },
            controllerUrl(globals().controller),
          ),
        );
      },
    );

  program
    .command('apply')
    .description('validate resources and add or update them in the mesh')
    .option('-f, --filename <file>', filenameHelp, collect, [])
    .option('-R, --recursive', recursiveHelp)
    .option('--wait', 'return once every proxy has acknowledged the change')
    .option('--timeout <duration>', 'how long --wait waits', '30s')
    .option('--dry-run', 'validate only')
    .action(
      async (opts: { filename: string[]; recursive?: boolean; wait?: boolean; timeout: string; dryRun?: boolean }) => {
        const { applyCommand } = await import('./cmd-config.js');
        done(
          await applyCommand(client(), io, opts.filename, {
            recursive: opts.recursive === true,
            wait: opts.wait === true,
            timeoutMs: parseTimeout(opts.timeout),
            dryRun: opts.dryRun === true,
          }),
        );
      },
    );

  program
    .command('delete')
    .description('remove resources: delete -f FILE... or delete KIND NAME [-n NS]')
    .argument('[kind]')
    .argument('[name]')
    .option('-f, --filename <file>', 'the resources of this file or directory (repeatable)', collect, [])
    .option('-R, --recursive', recursiveHelp)
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--wait', 'return once every proxy has acknowledged the change')
    .option('--timeout <duration>', 'how long --wait waits', '30s')
    .action(
      async (
        kind: string | undefined,
        name: string | undefined,
        opts: { filename: string[]; recursive?: boolean; namespace: string; wait?: boolean; timeout: string },
      ) => {
        const { deleteCommand } = await import('./cmd-config.js');
        done(
          await deleteCommand(
            client(),
            io,
            { files: opts.filename, recursive: opts.recursive === true, kind, name, namespace: opts.namespace },
            { wait: opts.wait === true, timeoutMs: parseTimeout(opts.timeout) },
          ),
        );
      },
    );

  program
    .command('get')
    .description('list resources in force, or the proxy replicas (get pods)')
    .argument('<kind>', 'e.g. serviceentry, vs, gw, dr, deployment, all, pods')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json', 'wide', 'name']))
    .action(
      async (
        kind: string,
        name: string | undefined,
        opts: { namespace: string; allNamespaces?: boolean; output?: 'yaml' | 'json' | 'wide' | 'name' },
      ) => {
        const { getCommand } = await import('./cmd-get.js');
        done(
          await getCommand(client(), io, kind, name, {
            namespace: opts.namespace,
            allNamespaces: opts.allNamespaces === true,
            output: opts.output,
          }),
        );
      },
    );

  program
    .command('exec')
    .description("run a command as a workload: its HTTP and HTTPS traffic goes through the workload's sidecar")
    .usage('WORKLOAD [-n NS] [--isolate] -- COMMAND [ARGS...]')
    .argument('<workload>')
    .argument('<command...>')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--isolate', 'run the command in its own network namespace whose only way out is the sidecar (root, Linux)')
    .action(async (workload: string, command: string[], opts: { namespace: string; isolate?: boolean }) => {
      const { execCommand } = await import('./cmd-runtime.js');
      done(
        await execCommand(client(), io, workload, opts.namespace, command, {
          isolate: opts.isolate === true,
          configDir: configDir(globals().configDir),
        }),
      );
    });

  program
    .command('logs')
    .description("a proxy's access log: one pod's, or every replica's of a workload or gateway, prefixed with the pod")
    .argument('<proxy>', 'a pod, or a workload or gateway name')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'only the last n lines')
    .action(async (proxy: string, opts: { namespace: string; follow?: boolean; tail?: string }) => {
      const { logsCommand } = await import('./cmd-logs.js');
      done(
        await logsCommand(client(), io, proxy, opts.namespace, {
          follow: opts.follow === true,
          tail: opts.tail === undefined ? undefined : Number(opts.tail),
        }),
      );
    });

  program
    .command('status')
    .description('each proxy with its config version; exit 0 only when all are in sync')
    .action(async () => {
      const { statusCommand } = await import('./cmd-status.js');
      done(await statusCommand(client(), io));
    });

  const reportOptions = (cmd: Command): Command =>
    cmd
      .option('-R, --recursive', recursiveHelp)
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
      .addOption(
        new Option('--output-threshold <level>', 'hide findings below this level')
          .choices(['info', 'warning', 'error'])
          .default('info'),
      )
      .addOption(
        new Option('--failure-threshold <level>', 'exit 1 on findings at or above this level')
          .choices(['info', 'warning', 'error'])
          .default('error'),
      );

  reportOptions(
    program
      .command('validate')
      .description('check files offline with the checks apply runs; exit 1 on errors')
      .option('-f, --filename <file>', 'a YAML file or directory (repeatable)', collect, []),
  ).action(async (opts: ReportOptions & { filename: string[]; recursive?: boolean }) => {
    const { validateCommand } = await import('./cmd-analyze.js');
    done(await validateCommand(io, opts.filename, { ...opts, recursive: opts.recursive === true }));
  });

  reportOptions(
    program
      .command('analyze')
      .description('find mistakes across resources: the live configuration, with -f files merged over it')
      .option(
        '-f, --filename <file>',
        'a YAML file or directory to analyze with the live configuration (repeatable)',
        collect,
        [],
      )
      .option('--offline', 'analyze the files alone, without the controller'),
  ).action(async (opts: ReportOptions & { filename: string[]; recursive?: boolean; offline?: boolean }) => {
    const { analyzeCommand } = await import('./cmd-analyze.js');
    done(
      await analyzeCommand(client(), io, opts.filename, {
        ...opts,
        recursive: opts.recursive === true,
        offline: opts.offline === true,
      }),
    );
  });

  await program.parseAsync([...argv]);
}
