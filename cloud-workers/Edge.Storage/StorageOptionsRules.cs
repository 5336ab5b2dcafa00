using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Npgsql;

namespace Edge.Storage;

/// <summary>Checks what data annotations cannot: which store may use which database, and that each connection string parses.</summary>
internal sealed class StorageOptionsRules : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new List<string>();
        Check(errors, "Stores:Cpap", options.Cpap, mongoAllowed: true);
        Check(errors, "Stores:Oxygen", options.Oxygen, mongoAllowed: false);
        Check(errors, "Stores:Ecg", options.Ecg, mongoAllowed: false);
        if (!string.IsNullOrWhiteSpace(options.Ledger))
        {
            Check(errors, "Stores:Ledger", options.Ledger, mongoAllowed: false);
        }
        if (!string.IsNullOrWhiteSpace(options.Registry))
        {
            Check(errors, "Stores:Registry", options.Registry, mongoAllowed: false);
        }
        if (!string.IsNullOrWhiteSpace(options.MigrationPasswordFile))
        {
            if (string.IsNullOrWhiteSpace(options.MigrationUsername))
            {
                errors.Add("Stores:MigrationPasswordFile is set without Stores:MigrationUsername.");
            }
            else if (!File.Exists(options.MigrationPasswordFile))
            {
                errors.Add($"Stores:MigrationPasswordFile {options.MigrationPasswordFile} does not exist.");
            }
            else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(options.MigrationPasswordFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                errors.Add($"Stores:MigrationPasswordFile {options.MigrationPasswordFile} is readable by group or others: chmod 0600 it.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string setting, string? value, bool mongoAllowed)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return; // [Required] says so.
        }
        if (StoreFactory.IsMongoConnectionString(value))
        {
            if (!mongoAllowed)
            {
                errors.Add($"{setting} is a MongoDB URI, but only the CPAP store can use MongoDB; give it a PostgreSQL connection string (Host=…;Database=…).");
                return;
            }
            try
            {
                MongoUrl.Create(value.Trim());
            }
            catch (Exception error) when (error is MongoConfigurationException or ArgumentException or FormatException)
            {
                errors.Add($"{setting} is not a valid MongoDB URI: {error.Message}");
            }
            return;
        }
        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
        }
        catch (Exception error) when (error is ArgumentException or FormatException or KeyNotFoundException)
        {
            errors.Add($"{setting} is neither a mongodb:// URI nor a valid PostgreSQL connection string: {error.Message}");
        }
    }
}
